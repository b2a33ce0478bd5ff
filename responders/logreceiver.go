package responders

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/eventstore"
)

// DefaultMaxStreamBody bounds one log stream delivery: Auth0 sends batches
// of events of a few KB each, far below it; a larger body is refused (413)
// before it is read whole.
const DefaultMaxStreamBody = 16 << 20

// LogReceiver accepts Auth0's custom webhook log stream (POST, content
// format JSON lines, JSON array or JSON object, each event in the envelope
// {"log_id": …, "data": {…}}) and appends the events to the store. It
// answers 2xx only once the batch is committed, so Auth0 retries anything
// not stored; a retried batch is kept once (log_id is the store's key).
type LogReceiver struct {
	Store *eventstore.Store
	// Authorization is the exact Authorization header value the stream is
	// configured to send; it must not be empty.
	Authorization []byte
	// MaxBody bounds a request body (0: DefaultMaxStreamBody).
	MaxBody int64
	// Delivered, if set, hears each stored batch: events in it, new ones.
	Delivered func(events, added int)
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu sync.Mutex // one batch at a time updates the stream feed
}

// ServeHTTP receives one delivery.
func (lr *LogReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "log stream deliveries are POSTed", http.StatusMethodNotAllowed)
		return
	}
	// Constant time: the header is a shared secret, and a comparison that
	// stops at the first wrong byte tells an attacker how much was right.
	got := []byte(r.Header.Get("Authorization"))
	if len(lr.Authorization) == 0 || subtle.ConstantTimeCompare(got, lr.Authorization) != 1 {
		http.Error(w, "wrong or missing Authorization header", http.StatusUnauthorized)
		return
	}
	limit := lr.MaxBody
	if limit <= 0 {
		limit = DefaultMaxStreamBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		http.Error(w, fmt.Sprintf("body larger than %d bytes", limit), http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	events, err := ParseLogStreamBody(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	added, err := lr.store(r, events)
	if err != nil {
		// Not stored: a 5xx makes Auth0 send the batch again.
		http.Error(w, "could not store the events", http.StatusServiceUnavailable)
		return
	}
	if lr.Delivered != nil {
		lr.Delivered(len(events), added)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"received":%d,"added":%d}`+"\n", len(events), added)
}

func (lr *LogReceiver) store(r *http.Request, events []auth0client.RawLog) (int, error) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	f, err := lr.Store.Feed(r.Context(), eventstore.FeedStream)
	if err != nil {
		return 0, err
	}
	now := time.Now
	if lr.Now != nil {
		now = lr.Now
	}
	f.LastAt = now().UTC()
	if f.CoversFrom.IsZero() {
		f.CoversFrom = f.LastAt
	}
	for _, e := range events {
		if e.Event.ID > f.Checkpoint {
			f.Checkpoint = e.Event.ID
		}
	}
	return lr.Store.Append(r.Context(), f, events)
}

// ParseLogStreamBody reads one log stream delivery: JSON lines (one
// envelope a line), a JSON array of envelopes, a JSON object of envelopes
// ("0", "1", …), or one envelope. A bare event (no envelope) is taken too.
// Anything else is an error naming what was wrong; nothing is stored from
// a body with one bad event.
func ParseLogStreamBody(body []byte) ([]auth0client.RawLog, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var out []auth0client.RawLog
	for n := 1; ; n++ {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("value %d of the body is not JSON: %v", n, err)
		}
		v = bytes.TrimSpace(v)
		switch {
		case len(v) > 0 && v[0] == '[':
			var arr []json.RawMessage
			if err := json.Unmarshal(v, &arr); err != nil {
				return nil, fmt.Errorf("value %d: %v", n, err)
			}
			for i, e := range arr {
				ev, err := parseEnvelope(e)
				if err != nil {
					return nil, fmt.Errorf("value %d, event %d: %w", n, i, err)
				}
				out = append(out, ev)
			}
		case len(v) > 0 && v[0] == '{':
			evs, err := parseObject(v)
			if err != nil {
				return nil, fmt.Errorf("value %d: %w", n, err)
			}
			out = append(out, evs...)
		default:
			return nil, fmt.Errorf("value %d of the body is neither an object nor an array", n)
		}
	}
	return out, nil
}

// parseObject reads an envelope, a bare event, or a JSON object format
// batch (members "0", "1", …, each an envelope).
func parseObject(v json.RawMessage) ([]auth0client.RawLog, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(v, &members); err != nil {
		return nil, err
	}
	if _, ok := members["data"]; ok {
		ev, err := parseEnvelope(v)
		return []auth0client.RawLog{ev}, err
	}
	if _, ok := members["type"]; ok {
		ev, err := parseEnvelope(v)
		return []auth0client.RawLog{ev}, err
	}
	out := make([]auth0client.RawLog, len(members))
	for k, m := range members {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(members) {
			return nil, fmt.Errorf("member %q is neither an event nor a batch index", auth0client.Clean(k))
		}
		ev, err := parseEnvelope(m)
		if err != nil {
			return nil, fmt.Errorf("event %q: %w", k, err)
		}
		out[i] = ev
	}
	return out, nil
}

// parseEnvelope reads {"log_id": …, "data": {event}} or a bare event.
func parseEnvelope(v json.RawMessage) (auth0client.RawLog, error) {
	var env struct {
		LogID string          `json:"log_id"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(v, &env); err != nil {
		return auth0client.RawLog{}, err
	}
	data := v
	if len(env.Data) > 0 && !bytes.Equal(env.Data, []byte("null")) {
		data = env.Data
	}
	e, err := auth0client.ParseLogWithID(data, env.LogID)
	if err != nil {
		return auth0client.RawLog{}, err
	}
	if e.Type == "" {
		return auth0client.RawLog{}, errors.New("an event without type")
	}
	return auth0client.RawLog{Event: e, Raw: data}, nil
}
