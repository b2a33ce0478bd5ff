package auth0client

import (
	"context"
	"fmt"
	"strings"

	"github.com/auth0/go-auth0/management"
)

// LogQuery is one page of a tenant log search (GET /api/v2/logs).
type LogQuery struct {
	// Q is a Lucene query over log fields (type, ip, user_id, date ranges…).
	Q string
	// Page is 0-based; PerPage at most MaxPerPage. Page*PerPage+PerPage
	// must stay within SearchCap.
	Page, PerPage int
	// Ascending sorts oldest first; the default is newest first.
	Ascending bool
}

// SearchLogs returns one page of a log search. include_totals is never sent:
// it changes the body to an envelope go-auth0 cannot decode for logs.
func (c *Client) SearchLogs(ctx context.Context, q LogQuery) ([]LogEvent, error) {
	per := q.PerPage
	if per <= 0 || per > MaxPerPage {
		per = MaxPerPage
	}
	sort := "date:-1"
	if q.Ascending {
		sort = "date:1"
	}
	opts := []management.RequestOption{management.Page(q.Page), management.PerPage(per), management.Sort(sort)}
	if strings.TrimSpace(q.Q) != "" {
		opts = append(opts, management.Query(q.Q))
	}
	ls, err := c.listLogs(ctx, opts...)
	if err != nil {
		return nil, wrapErr("search logs", err)
	}
	return ls, nil
}

// LogsAfter returns up to take (≤ 100) events newer than the checkpoint
// log id from, oldest first. Checkpoint paging has no 1000-result cap but
// ignores q and every other parameter, so callers filter on the client.
// With from == "" it starts at the oldest retained event (a one-page search
// sorted oldest first, since a checkpoint needs an id to start from).
func (c *Client) LogsAfter(ctx context.Context, from string, take int) ([]LogEvent, error) {
	if take <= 0 || take > MaxPerPage {
		take = MaxPerPage
	}
	if from == "" {
		return c.SearchLogs(ctx, LogQuery{PerPage: take, Ascending: true})
	}
	ls, err := c.listLogs(ctx, management.From(from), management.Take(take))
	if err != nil {
		return nil, wrapErr("read logs after checkpoint", err)
	}
	return ls, nil
}

// UserLogs returns one page of a user's log events, newest first.
func (c *Client) UserLogs(ctx context.Context, userID string, page, perPage int) ([]LogEvent, error) {
	if perPage <= 0 || perPage > MaxPerPage {
		perPage = MaxPerPage
	}
	ls, err := c.m.User.GetUserLogs(ctx, userID, management.Page(page), management.PerPage(perPage), management.Sort("date:-1"))
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("read logs of user %s", Clean(userID)), err)
	}
	return logsFrom(ls), nil
}

func logsFrom(ls []*management.Log) []LogEvent {
	out := make([]LogEvent, 0, len(ls))
	for _, l := range ls {
		if l != nil {
			out = append(out, logFrom(l))
		}
	}
	return out
}
