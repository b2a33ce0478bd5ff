package auth0client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/auth0/go-auth0/management"
)

// RawLog is one tenant log event as Auth0 sent it (JSON, attacker text
// untouched, every field kept — security_context included, which go-auth0's
// Log drops) beside its cleaned project form. Raw is for keeping (the event
// store); Event is for showing and deciding.
type RawLog struct {
	Event LogEvent
	Raw   json.RawMessage
}

// RawLogsAfter is LogsAfter keeping Auth0's JSON of each event: up to take
// (≤ 100) events newer than the checkpoint log id from, oldest first (from
// must not be empty: find a starting id with SearchLogs).
func (c *Client) RawLogsAfter(ctx context.Context, from string, take int) ([]RawLog, error) {
	if from == "" {
		return nil, errors.New("read logs after checkpoint: no checkpoint log id to start from")
	}
	if take <= 0 || take > MaxPerPage {
		take = MaxPerPage
	}
	var raws []json.RawMessage
	if err := c.m.Request(ctx, "GET", c.m.URI("logs"), &raws, management.From(from), management.Take(take)); err != nil {
		return nil, wrapErr("read logs after checkpoint", err)
	}
	return rawLogs("read logs after checkpoint", raws)
}

// ErrNoLogID is ParseLog's error for an event without a log id (a log
// stream envelope may carry it outside the event).
var ErrNoLogID = errors.New("not an Auth0 log event: no log_id")

// ParseLog reads one log event in Auth0's JSON (the Management API's form,
// or the data member of a log stream's envelope) into its cleaned project
// form. It fails on anything that is not a JSON object with a log id.
func ParseLog(raw []byte) (LogEvent, error) {
	return ParseLogWithID(raw, "")
}

// ParseLogWithID is ParseLog for an event whose id may be given beside it
// (a log stream envelope's log_id), used when the event names none.
func ParseLogWithID(raw []byte, id string) (LogEvent, error) {
	var l management.Log
	if err := json.Unmarshal(raw, &l); err != nil {
		return LogEvent{}, fmt.Errorf("not an Auth0 log event: %w", err)
	}
	e := logFrom(&l)
	// go-auth0's Log drops security_context (the TLS fingerprints): a
	// second, small decode where there is one (see decodeLogPage).
	if bytes.Contains(raw, []byte(`"security_context"`)) {
		var sc struct {
			SecurityContext *struct {
				JA3 string `json:"ja3"`
				JA4 string `json:"ja4"`
			} `json:"security_context"`
		}
		if json.Unmarshal(raw, &sc) == nil && sc.SecurityContext != nil {
			e.JA3, e.JA4 = Clean(sc.SecurityContext.JA3), Clean(sc.SecurityContext.JA4)
		}
	}
	if e.ID == "" {
		e.ID = str(l.ID) // older events name it _id
	}
	if e.ID == "" {
		e.ID = Clean(id)
	}
	if e.ID == "" {
		return LogEvent{}, ErrNoLogID
	}
	return e, nil
}

// RawSearchLogs is SearchLogs keeping Auth0's JSON of each event.
func (c *Client) RawSearchLogs(ctx context.Context, q LogQuery) ([]RawLog, error) {
	var raws []json.RawMessage
	if err := c.m.Request(ctx, "GET", c.m.URI("logs"), &raws, q.options()...); err != nil {
		return nil, wrapErr("search logs", err)
	}
	return rawLogs("search logs", raws)
}

func rawLogs(op string, raws []json.RawMessage) ([]RawLog, error) {
	out := make([]RawLog, 0, len(raws))
	for i, r := range raws {
		e, err := ParseLog(r)
		if err != nil {
			return nil, fmt.Errorf("%s: event %d: %w", op, i, err)
		}
		out = append(out, RawLog{Event: e, Raw: r})
	}
	return out, nil
}
