package auth0client

import (
	"context"
	"fmt"
	"net/url"
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

// options are the request's page, page size, order and query.
func (q LogQuery) options() []management.RequestOption {
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
	return opts
}

// SearchLogs returns one page of a log search. include_totals is never sent:
// it changes the body to an envelope go-auth0 cannot decode for logs.
func (c *Client) SearchLogs(ctx context.Context, q LogQuery) ([]LogEvent, error) {
	ls, err := c.listLogs(ctx, q.options()...)
	if err != nil {
		return nil, wrapErr("search logs", err)
	}
	return ls, nil
}

// LogsAfter returns up to take (≤ 100) events newer than the checkpoint
// log id from, in log_id order. Checkpoint paging has no 1000-result cap but
// ignores q and every other parameter, so callers filter on the client.
// With from == "" it starts at the oldest retained event (a one-page search
// sorted oldest first, since a checkpoint needs an id to start from).
// Readers that must see every event follow LogsAfterPage's Next.
func (c *Client) LogsAfter(ctx context.Context, from string, take int) ([]LogEvent, error) {
	p, err := c.LogsAfterPage(ctx, from, take)
	return p.Events, err
}

// LogPage is one page of checkpoint paging.
type LogPage struct {
	// Events are in log_id order, which is ingestion order: their dates
	// can be out of order by seconds or more.
	Events []LogEvent
	// Next is the checkpoint of the next request as Auth0 names it in the
	// Link rel="next" header; "" when it sent none. On an empty page it is
	// the request's own checkpoint.
	Next string
}

// LogsAfterPage is LogsAfter with the next checkpoint Auth0 names. Auth0
// asks checkpoint clients to follow the Link header's next URL rather
// than build their own, and promises no full pages: the end is an empty
// page, not a short one.
func (c *Client) LogsAfterPage(ctx context.Context, from string, take int) (LogPage, error) {
	if take <= 0 || take > MaxPerPage {
		take = MaxPerPage
	}
	if from == "" {
		evs, err := c.SearchLogs(ctx, LogQuery{PerPage: take, Ascending: true})
		if err != nil || len(evs) == 0 {
			return LogPage{Events: evs}, err
		}
		return LogPage{Events: evs, Next: evs[len(evs)-1].ID}, nil
	}
	sink := &linkSink{}
	ls, err := c.listLogs(context.WithValue(ctx, linkSinkKey{}, sink), management.From(from), management.Take(take))
	if err != nil {
		return LogPage{}, wrapErr("read logs after checkpoint", err)
	}
	return LogPage{Events: ls, Next: nextCheckpoint(sink.link)}, nil
}

// linkSink receives the Link header of a request made with it in the
// context (go-auth0 returns bodies only); linkSinkKey is its key.
type linkSink struct{ link string }

type linkSinkKey struct{}

// nextCheckpoint is the from parameter of the rel="next" URL of a Link
// header (`<https://…/api/v2/logs?from=…&take=100>; rel="next"`); "" when
// there is none.
func nextCheckpoint(link string) string {
	for _, part := range strings.Split(link, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		target = strings.TrimSpace(target)
		target = strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">")
		u, err := url.Parse(target)
		if err != nil {
			return ""
		}
		return u.Query().Get("from")
	}
	return ""
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
