package auth0client

import (
	"context"
	"fmt"
	"strings"

	"github.com/auth0/go-auth0/management"
)

// MaxPerPage is the largest page Auth0 serves for users and logs.
const MaxPerPage = 100

// SearchCap is how many results Auth0's page-based search can reach (users
// and logs alike); past it a search must be narrowed.
const SearchCap = 1000

// UserPage is one page of a user search.
type UserPage struct {
	Users []User
	// Total is Auth0's count of matches (capped by Auth0 in some cases).
	Total int
}

// SearchUsers runs one page of a Lucene user search (search engine v3).
func (c *Client) SearchUsers(ctx context.Context, query string, page, perPage int) (UserPage, error) {
	if perPage <= 0 || perPage > MaxPerPage {
		perPage = MaxPerPage
	}
	opts := []management.RequestOption{
		management.Parameter("search_engine", "v3"),
		management.Page(page), management.PerPage(perPage), management.IncludeTotals(true),
	}
	if strings.TrimSpace(query) != "" {
		opts = append(opts, management.Query(query))
	}
	ul, err := c.m.User.Search(ctx, opts...)
	if err != nil {
		return UserPage{}, wrapErr("search users", err)
	}
	out := UserPage{Total: ul.Total, Users: make([]User, 0, len(ul.Users))}
	for _, u := range ul.Users {
		out.Users = append(out.Users, userFrom(u))
	}
	return out, nil
}

// SearchAllUsers pages through a search up to limit results (at most
// SearchCap, Auth0's reach). Truncated says whether more matched.
func (c *Client) SearchAllUsers(ctx context.Context, query string, limit int) (users []User, truncated bool, err error) {
	if limit <= 0 || limit > SearchCap {
		limit = SearchCap
	}
	total := 0
	for page := 0; page*MaxPerPage < limit; page++ {
		p, err := c.SearchUsers(ctx, query, page, MaxPerPage)
		if err != nil {
			return nil, false, err
		}
		total = p.Total
		users = append(users, p.Users...)
		if len(p.Users) < MaxPerPage {
			break
		}
	}
	if len(users) > limit {
		users = users[:limit]
	}
	return users, total > len(users), nil
}

// User reads one user by id.
func (c *Client) User(ctx context.Context, id string) (User, error) {
	u, err := c.m.User.Read(ctx, id)
	if err != nil {
		return User{}, wrapErr(fmt.Sprintf("read user %s", Clean(id)), err)
	}
	return userFrom(u), nil
}

// UsersByEmail lists every account with this email (there can be several:
// one per connection).
func (c *Client) UsersByEmail(ctx context.Context, email string) ([]User, error) {
	us, err := c.m.User.ListByEmail(ctx, email)
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("find users by email %s", Clean(email)), err)
	}
	out := make([]User, 0, len(us))
	for _, u := range us {
		out = append(out, userFrom(u))
	}
	return out, nil
}

// SetBlocked blocks or unblocks a user: PATCH /api/v2/users/{id}
// {"blocked": v}. Setting a value is idempotent, so it is retried safely.
// The user in Auth0's answer is returned, so a caller can check the end
// state without another read.
func (c *Client) SetBlocked(ctx context.Context, id string, blocked bool) (User, error) {
	u := &management.User{Blocked: &blocked}
	err := c.m.User.Update(ctx, id, u)
	verb := "block"
	if !blocked {
		verb = "unblock"
	}
	if err != nil {
		return User{}, wrapErr(fmt.Sprintf("%s user %s", verb, Clean(id)), err)
	}
	return userFrom(u), nil
}

// DryRun is false: the Client sends.
func (c *Client) DryRun() bool { return false }

// UserBlock is a brute-force protection block: Auth0 refuses logins for
// Identifier from IP after too many failures (limit_wc).
type UserBlock struct {
	Identifier string `json:"identifier"`
	IP         string `json:"ip"`
}

// UserBlocks lists a user's brute-force blocks (GET /api/v2/user-blocks/{id}).
func (c *Client) UserBlocks(ctx context.Context, id string) ([]UserBlock, error) {
	bs, err := c.m.User.Blocks(ctx, id)
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("read brute-force blocks of %s", Clean(id)), err)
	}
	out := make([]UserBlock, 0, len(bs))
	for _, b := range bs {
		if b != nil {
			out = append(out, UserBlock{Identifier: str(b.Identifier), IP: str(b.IP)})
		}
	}
	return out, nil
}
