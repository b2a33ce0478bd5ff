package responders

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Reading an Auth0 log-stream export (NDJSON, one event per line, with or
// without the log-stream envelope {"log_id": …, "data": {…}}).
//
// Why a hand-written scanner rather than encoding/json or gjson: triage
// needs nine fields of a ~1 KB event whose bulk (details, user agent) it
// skips. encoding/json decodes everything it is given at ~107k events/s on
// this machine's two cores (DESIGN.md), below the 250k/s target. gjson
// reaches the speed but re-scans the line once per field (or needs a
// callback walk) and does not validate, so a truncated line would yield a
// half event; it would also be a new dependency for about 300 lines of
// code. The scanner below walks each line once, validates its JSON syntax
// as it goes (a malformed line is counted, never half-read), allocates
// nothing for events without escapes, and falls back to encoding/json only
// for the rare string with escapes or invalid UTF-8, so its values are
// exactly encoding/json's (checked by FuzzReadLogStream and, on a whole
// generated export with odd lines, TestTriageFastPathEqualsReferenceDecode).
// Strings are scanned eight bytes at a time while they hold no quote,
// backslash or control character.

// MaxLogLineBytes is the longest line read; a longer one is counted as
// malformed and skipped without being held in memory. Auth0 caps a user
// agent far below this; hostile 1 MB values fit easily.
const MaxLogLineBytes = 64 << 20

// maxLogStreamWorkers caps the default parsers and folders: each folder's
// share holds the accounts its addresses touched (an account appears in a
// few shares), and each worker keeps blocks in flight.
const maxLogStreamWorkers = 8

// maxReportedLines bounds the malformed line numbers a read reports.
const maxReportedLines = 10

// LogStreamStats is what reading a log stream saw.
type LogStreamStats struct {
	// Lines read (blank ones included), Events parsed, Blank lines.
	Lines  int64 `json:"lines"`
	Events int64 `json:"events"`
	Blank  int64 `json:"blank"`
	// Malformed lines: not JSON, not an object, no "type", or too long.
	Malformed int64 `json:"malformed"`
	// MalformedLines are the first few malformed line numbers (1-based).
	MalformedLines []int64 `json:"malformed_lines,omitempty"`
	// Bytes read.
	Bytes int64 `json:"bytes"`
	// Limited reports that LogStreamOptions.Limit stopped the read.
	Limited bool `json:"limited,omitempty"`
}

func (s *LogStreamStats) malformed(line int64) {
	s.Malformed++
	if len(s.MalformedLines) < maxReportedLines {
		s.MalformedLines = append(s.MalformedLines, line)
	}
}

// mergeBlock merges the stats of a block whose line numbers count from
// its first line, which follows before lines.
func (s *LogStreamStats) mergeBlock(o LogStreamStats, before int64) {
	for i := range o.MalformedLines {
		o.MalformedLines[i] += before
	}
	s.merge(o)
}

func (s *LogStreamStats) merge(o LogStreamStats) {
	s.Lines += o.Lines
	s.Events += o.Events
	s.Blank += o.Blank
	s.Malformed += o.Malformed
	s.MalformedLines = append(s.MalformedLines, o.MalformedLines...)
	slices.Sort(s.MalformedLines)
	if len(s.MalformedLines) > maxReportedLines {
		s.MalformedLines = s.MalformedLines[:maxReportedLines]
	}
}

// LogStreamOptions tune a read.
type LogStreamOptions struct {
	// Workers parse lines in parallel, and as many fold them (default
	// GOMAXPROCS, at most maxLogStreamWorkers).
	Workers int
	// Limit caps the lines read (0: no limit).
	Limit int64
	// ChunkBytes is the size of the blocks handed to workers (default
	// 256 KiB: a block read is then still in the cache when a parser
	// scans it; 1 MiB blocks cost a 1M-event triage about 10% more CPU).
	ChunkBytes int
	// MaxLineBytes is the longest line read (default MaxLogLineBytes).
	MaxLineBytes int
}

// ParseLogEvent parses one line of a log-stream export. It reports false
// for a line that is not one JSON object with a string "type".
func ParseLogEvent(line []byte) (TriageEvent, bool) {
	var f eventFields
	if !f.parseLine(line) {
		return TriageEvent{}, false
	}
	return TriageEvent{LogID: f.str(f.logID), Date: f.date(), Type: f.str(f.typ), IP: f.str(f.ip), UserID: f.str(f.userID),
		UserName: f.str(f.userName), Country: f.str(f.country), Agent: AgentHash(f.agent),
		RequiresVerification: f.verify}, true
}

// ReadLogStream reads a log-stream export from r and calls fn with each
// event, in order, from the calling goroutine. Malformed lines are counted
// in the stats, not fatal; fn's error stops the read and is returned.
func ReadLogStream(ctx context.Context, r io.Reader, limit int64, fn func(TriageEvent) error) (LogStreamStats, error) {
	var stats LogStreamStats
	var ferr error
	var lines int64 // before the block
	err := splitLines(ctx, r, LogStreamOptions{Limit: limit}, &stats, func(c *chunk) bool {
		c.lines(func(line []byte, n int64) {
			if ferr != nil {
				return
			}
			c.stats.Lines++
			if isBlank(line) {
				c.stats.Blank++
				return
			}
			e, ok := ParseLogEvent(line)
			if !ok {
				c.stats.malformed(n)
				return
			}
			c.stats.Events++
			ferr = fn(e)
		})
		stats.mergeBlock(c.stats, lines)
		lines += c.stats.Lines
		return ferr == nil
	})
	if ferr != nil {
		return stats, ferr
	}
	return stats, err
}

// TriageLogStream triages a log-stream export in a bounded pipeline: the
// calling goroutine reads blocks of whole lines, Workers goroutines parse
// them (each block into the few fields triage needs, as slices of the
// block), and Workers folding goroutines add the parsed events to as many
// triages, each the events of its share of the addresses (by a hash of
// the address), in file order; the shares are merged at the end. An
// address and its pairs live in one share, so the fold needs no lock and
// the result is that of Add called on every event in order (accounts,
// which appear in several shares, merge exactly: see Triage.Merge).
// Memory is the triage (the population: addresses, accounts and their
// pairs) plus a fixed number of blocks in flight, whatever the size of
// the export.
func TriageLogStream(ctx context.Context, r io.Reader, cfg TriageConfig, opts LogStreamOptions) (*Triage, LogStreamStats, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = min(runtime.GOMAXPROCS(0), maxLogStreamWorkers)
	}
	shares := workers
	seeds := newTriageSeeds()
	work := make(chan *chunk, workers)
	var parsers sync.WaitGroup
	for range workers {
		parsers.Go(func() {
			var f eventFields
			for c := range work {
				c.parse(&f, seeds, shares)
				close(c.parsed)
			}
		})
	}
	// Each folder reads every block, in file order, and folds its share of
	// the block's events; the last one to finish with a block releases it.
	// The channels' capacity bounds the blocks in flight.
	triages := make([]*Triage, shares)
	var lines int64 // before the block folder 0 is at
	ordered := make([]chan *chunk, shares)
	stats := make([]LogStreamStats, shares)
	var folders sync.WaitGroup
	for k := range shares {
		triages[k], ordered[k] = newTriage(cfg, seeds), make(chan *chunk, 2*workers)
		folders.Go(func() {
			t := triages[k]
			for c := range ordered[k] {
				<-c.parsed
				t.foldBatch(c.shares[k])
				if k == 0 {
					stats[k].mergeBlock(c.stats, lines)
					lines += c.stats.Lines
				}
				if c.pending.Add(-1) == 0 {
					c.release()
				}
			}
		})
	}
	var read LogStreamStats
	err := splitLines(ctx, r, opts, &read, func(c *chunk) bool {
		c.parsed = make(chan struct{})
		c.pending.Store(int32(shares))
		for k := range shares {
			ordered[k] <- c
		}
		work <- c
		return true
	})
	close(work)
	for k := range shares {
		close(ordered[k])
	}
	parsers.Wait()
	folders.Wait()
	read.merge(stats[0])
	t := triages[0]
	for _, o := range triages[1:] {
		t.mergeShare(o)
	}
	return t, read, err
}

// chunk is a block of whole lines and the number of its first line; a
// parse fills its events and stats. Blocks are recycled through a pool
// with their buffers.
type chunk struct {
	buf []byte
	// overLong: the block is one line longer than the maximum, not read.
	overLong bool
	// stats are the counts of the pass over the block.
	stats LogStreamStats
	pool  *sync.Pool
	// shares are the block's events, by share of the addresses, as slices
	// of buf or scratch (strings with escapes, decoded); parsed is closed
	// when they are ready, and pending counts the folders yet to read them.
	shares  [][]rawEvent
	scratch []byte
	parsed  chan struct{}
	pending atomic.Int32
}

// rawEvent is a parsed event whose strings are slices of its block.
// The parser works out its slot, keys and agent hash while the line is in
// its core's cache: the folder reads the strings only to keep them.
type rawEvent struct {
	keys                                 eventKeys
	logID, ip, userID, userName, country []byte
	date                                 time.Time
	agent                                uint64
	slot                                 uint8
	hints                                foldHints // foldBatch's scratch
}

// foldBatch adds events to t as addEvent on each in turn would, in three
// passes, because the fold of a large export waits on memory: each event
// reads its pair's slot in the index, then its pair, address and account,
// all at random in tens of megabytes. The first pass finds the known
// pairs and the second reads their records, event after event, each read
// independent of the last so that the processor has many in flight; the
// third pass then adds the events from the cache.
func (t *Triage) foldBatch(evs []rawEvent) {
	if t.unindexed {
		t.reindex()
	}
	for i := range evs {
		e := &evs[i]
		e.hints = noHints
		if len(e.ip) == 0 {
			continue
		}
		if e.keys.acct != 0 {
			if pi, ok := t.pairIdx.get(pairKey(e.keys.ip, e.keys.acct)); ok {
				e.hints.pair = pi
				continue
			}
		}
		// A new pair: its address and account may be known.
		if ipi, ok := t.ipIndex.get(e.keys.ip); ok {
			e.hints.ip = ipi
		}
		if e.keys.acct != 0 {
			index := &t.idIndex
			if e.keys.byName {
				index = &t.nameIdx
			}
			if ai, ok := index.get(e.keys.acct); ok {
				e.hints.acct = ai
			}
		}
	}
	var touched int64
	for i := range evs {
		h := evs[i].hints
		if h.pair != noPair {
			p := &t.pairs[h.pair]
			h.ip, h.acct = p.ip, p.acct
			touched += p.first
		}
		if h.ip != noPair {
			touched += int64(t.ips[h.ip].counts[evs[i].slot])
		}
		if h.acct != noPair {
			touched += int64(t.accts[h.acct].lastName)
		}
	}
	t.touched += touched // kept, so the reads are not dropped
	for i := range evs {
		e := &evs[i]
		addEvent(t, e.keys, int(e.slot), e.logID, e.ip, e.userID, e.userName, e.country, nil, e.date, e.agent, e.hints)
	}
}

// shareOf is the share of an address (by its key) among n. Events without
// an address, which only count, go to share 0.
func shareOf(ip uint64, n int) int {
	return int((ip >> 32) % uint64(n))
}

// parse fills c.shares and c.stats from the block's lines.
func (c *chunk) parse(f *eventFields, seeds triageSeeds, shares int) {
	if len(c.shares) != shares {
		c.shares = make([][]rawEvent, shares)
	}
	for k := range c.shares {
		c.shares[k] = c.shares[k][:0]
	}
	c.stats = LogStreamStats{}
	f.scratch = c.scratch[:0]
	c.lines(func(line []byte, n int64) {
		c.stats.Lines++
		if isBlank(line) {
			c.stats.Blank++
			return
		}
		if !f.parseLine(line) {
			c.stats.malformed(n)
			return
		}
		c.stats.Events++
		var keys eventKeys
		keys, f.lower = seeds.keysOf(f.ip, f.userID, f.userName, f.lower)
		k := shareOf(keys.ip, shares)
		c.shares[k] = append(c.shares[k], rawEvent{keys: keys, logID: f.logID, ip: f.ip, userID: f.userID, userName: f.userName,
			country: f.country, date: f.date(), agent: AgentHash(f.agent), slot: uint8(eventSlot(f.typ, f.verify))})
	})
	c.scratch = f.scratch
}

// lines calls fn with each line of the block (which holds whole lines,
// its last newline removed) and its number in the block, from 1 (the
// block's stats are shifted to line numbers of the input when merged in
// order: counting lines as they are read would be one more pass over
// every byte). An over-long line's block counts it as malformed.
func (c *chunk) lines(fn func(line []byte, n int64)) {
	if c.overLong {
		c.stats.Lines++
		c.stats.malformed(1)
		return
	}
	n, b := int64(1), c.buf
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			fn(b, n)
			return
		}
		fn(b[:i], n)
		b, n = b[i+1:], n+1
	}
}

// release hands the block back to the pool (an outsized one is dropped).
func (c *chunk) release() {
	if c.pool != nil && cap(c.buf) <= 4<<20 {
		c.pool.Put(c)
	}
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// splitLines reads r in blocks of whole lines and hands each to emit (which
// returns false to stop). A line longer than MaxLogLineBytes is skipped,
// handed over as a block of its own that counts it as malformed. The read
// stops after opts.Limit lines (only then does it count lines).
func splitLines(ctx context.Context, r io.Reader, opts LogStreamOptions, stats *LogStreamStats, emit func(*chunk) bool) error {
	size := opts.ChunkBytes
	if size <= 0 {
		size = 256 << 10
	}
	maxLine := opts.MaxLineBytes
	if maxLine <= 0 {
		maxLine = MaxLogLineBytes
	}
	pool := &sync.Pool{New: func() any { return &chunk{buf: make([]byte, 0, size)} }}
	var carry []byte  // the partial line at the end of the last block
	line := int64(1)  // number of the next line, counted when there is a limit
	skipping := false // inside a line over MaxLogLineBytes
	overLong := func() bool {
		line++
		return emit(&chunk{overLong: true})
	}
	for eof := false; !eof; {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := pool.Get().(*chunk)
		buf := append(c.buf[:0], carry...)
		carry = nil
		// Fill the block; grow it while it holds no whole line.
		for {
			if len(buf) == cap(buf) {
				if !skipping && bytes.IndexByte(buf, '\n') >= 0 {
					break
				}
				if len(buf) >= maxLine {
					skipping, buf = true, buf[:0] // drop it, read on to its end
				} else {
					buf = slices.Grow(buf, len(buf))
				}
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			stats.Bytes += int64(n)
			if skipping {
				if i := bytes.IndexByte(buf, '\n'); i >= 0 {
					if !overLong() {
						return nil
					}
					buf = append(buf[:0], buf[i+1:]...)
					skipping = false
				} else {
					buf = buf[:0]
				}
			}
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return fmt.Errorf("read log stream: %w", err)
			}
		}
		if skipping { // the input ended inside an over-long line
			if !overLong() {
				return nil
			}
			buf = buf[:0]
		}
		if !eof {
			i := bytes.LastIndexByte(buf, '\n')
			carry = append([]byte(nil), buf[i+1:]...)
			buf = buf[:i+1]
		}
		if len(buf) == 0 {
			break // only at the end of the input: nothing after the last newline
		}
		buf = bytes.TrimSuffix(buf, []byte{'\n'})
		if opts.Limit > 0 {
			if opts.Limit-(line-1) <= 0 {
				stats.Limited = true
				return nil
			}
			n := int64(bytes.Count(buf, []byte{'\n'})) + 1
			if line-1+n > opts.Limit {
				keep := opts.Limit - (line - 1)
				cut := 0
				for range keep {
					cut += bytes.IndexByte(buf[cut:], '\n') + 1
				}
				stats.Limited = true
				c.buf, c.pool, c.stats = buf[:cut-1], pool, LogStreamStats{}
				emit(c)
				return nil
			}
			line += n
		}
		c.buf, c.pool, c.stats = buf, pool, LogStreamStats{}
		if !emit(c) {
			return nil
		}
		if opts.Limit > 0 && line-1 >= opts.Limit {
			stats.Limited = !eof || len(carry) > 0
			return nil
		}
	}
	return nil
}

// eventFields are the fields of one event as slices of the line. Strings
// with escapes or invalid UTF-8 are decoded by encoding/json into scratch.
type eventFields struct {
	logID, typ, ip, userID, userName, country, dateRaw, agent []byte
	verify                                                    bool
	scratch                                                   []byte
	lower                                                     []byte   // scratch for keysOf
	quotes                                                    []uint64 // scratch for the fast path
}

func (f *eventFields) str(b []byte) string { return string(b) }

func (f *eventFields) date() time.Time { return parseAuth0Time(f.dateRaw) }

// parseLine fills f from one line; false for a malformed line.
func (f *eventFields) parseLine(line []byte) bool {
	if f.parseClean(line) {
		return true
	}
	*f = eventFields{scratch: f.scratch, lower: f.lower, quotes: f.quotes} // earlier lines' decoded strings stay valid
	s := scanner{b: line}
	s.ws()
	var outer, inner eventFields
	envelope := false
	if !s.object(0, func(key []byte) bool {
		switch string(key) {
		case "data":
			s.ws()
			if s.peek() != '{' {
				envelope = false
				return s.skip(1)
			}
			inner = eventFields{}
			envelope = true
			return s.event(&inner, 1, f)
		}
		return s.field(&outer, key, 1, f)
	}) {
		return false
	}
	s.ws()
	if s.i != len(s.b) {
		return false // trailing bytes after the object
	}
	scratch, lower, quotes := f.scratch, f.lower, f.quotes
	if envelope {
		if len(inner.logID) == 0 {
			inner.logID = outer.logID
		}
		*f = inner
	} else {
		*f = outer
	}
	f.scratch, f.lower, f.quotes = scratch, lower, quotes
	return f.typ != nil
}

// scanner walks JSON text, validating it.
type scanner struct {
	b []byte
	i int
}

const maxDepth = 512

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// event parses an object's members into ev (the event or its "data").
func (s *scanner) event(ev *eventFields, depth int, scratch *eventFields) bool {
	return s.object(depth, func(key []byte) bool { return s.field(ev, key, depth+1, scratch) })
}

// stringField is where the string member key of an event goes (nil: not
// one of triage's plain string fields).
func (ev *eventFields) stringField(key []byte) *[]byte {
	switch string(key) {
	case "log_id":
		return &ev.logID
	case "type":
		return &ev.typ
	case "ip":
		return &ev.ip
	case "user_id":
		return &ev.userID
	case "user_name":
		return &ev.userName
	case "date":
		return &ev.dateRaw
	case "user_agent":
		return &ev.agent
	}
	return nil
}

// field reads the value of member key into ev when triage wants it. A
// repeated key overwrites (encoding/json keeps the last); a wanted field
// with a value of another type reads as absent.
func (s *scanner) field(ev *eventFields, key []byte, depth int, sc *eventFields) bool {
	if dst := ev.stringField(key); dst != nil {
		return s.stringInto(dst, sc)
	}
	switch string(key) {
	case "location_info":
		ev.country = nil
		s.ws()
		if s.peek() != '{' {
			return s.skip(depth)
		}
		return s.object(depth, func(k []byte) bool {
			if string(k) == "country_code" {
				return s.stringInto(&ev.country, sc)
			}
			return s.skip(depth + 1)
		})
	case "details":
		ev.verify = false
		s.ws()
		if s.peek() != '{' {
			return s.skip(depth)
		}
		return s.object(depth, func(k []byte) bool {
			if string(k) == "requiresVerification" {
				s.ws()
				start := s.i
				if !s.skip(depth + 1) {
					return false
				}
				ev.verify = string(s.b[start:s.i]) == "true"
				return true
			}
			return s.skip(depth + 1)
		})
	}
	return s.skip(depth)
}

// stringInto reads a value into *dst if it is a string (nil otherwise).
func (s *scanner) stringInto(dst *[]byte, sc *eventFields) bool {
	s.ws()
	if s.peek() != '"' {
		*dst = nil
		return s.skip(1)
	}
	raw, plain, ok := s.str()
	if !ok {
		return false
	}
	if plain && utf8.Valid(raw) {
		*dst = raw
		return true
	}
	// Escapes or invalid UTF-8: let encoding/json decide, exactly.
	var v string
	if err := json.Unmarshal(s.b[s.i-len(raw)-2:s.i], &v); err != nil {
		return false
	}
	start := len(sc.scratch)
	sc.scratch = append(sc.scratch, v...)
	*dst = sc.scratch[start:len(sc.scratch):len(sc.scratch)]
	return true
}

// object parses {…}, calling member with each key (decoded) with the
// scanner on the value, which member must consume.
func (s *scanner) object(depth int, member func(key []byte) bool) bool {
	if depth > maxDepth {
		return false
	}
	s.ws()
	if s.peek() != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		s.ws()
		if s.peek() != '"' {
			return false
		}
		key, plain, ok := s.str()
		if !ok {
			return false
		}
		if !plain {
			var k string
			if json.Unmarshal(s.b[s.i-len(key)-2:s.i], &k) != nil {
				return false
			}
			key = []byte(k)
		}
		s.ws()
		if s.peek() != ':' {
			return false
		}
		s.i++
		if !member(key) {
			return false
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// strStop marks the bytes that end a plain run inside a string.
var strStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return
}()

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// str reads a string at s.i ('"'), returning its raw contents and whether
// it has no escapes. It validates escapes and rejects control characters.
func (s *scanner) str() (raw []byte, plain, ok bool) {
	s.i++
	start := s.i
	plain = true
	b := s.b
	for i := s.i; i < len(b); {
		// Eight bytes at a time while none of them is a quote, a
		// backslash or a control character (most of a user agent).
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q, bs := x^('"'*swarLo), x^('\\'*swarLo)
			if ((q-swarLo)&^q|(bs-swarLo)&^bs|(x-0x20*swarLo)&^x)&swarHi != 0 {
				break
			}
			i += 8
		}
		if i == len(b) {
			break
		}
		c := b[i]
		if !strStop[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return b[start:i], plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				return nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return nil, false, false
				}
				for _, h := range b[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false, false
					}
				}
				i += 6
			default:
				return nil, false, false
			}
		default: // a control character
			return nil, false, false
		}
	}
	return nil, false, false
}

// skip consumes and validates any value.
func (s *scanner) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.ws()
	switch c := s.peek(); {
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == '{':
		return s.object(depth, func([]byte) bool { return s.skip(depth + 1) })
	case c == '[':
		s.i++
		s.ws()
		if s.peek() == ']' {
			s.i++
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

// number validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	i := numberEnd(s.b, s.i)
	if i < 0 {
		return false
	}
	s.i = i
	return true
}

// numberEnd returns the index after the number at b[i:], -1 if there is
// none.
func numberEnd(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i]-'1' < 9:
		i = digitsEnd(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		start := i + 1
		if i = digitsEnd(b, start); i == start {
			return -1
		}
	}
	if i < len(b) && b[i]|0x20 == 'e' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		if i = digitsEnd(b, start); i == start {
			return -1
		}
	}
	return i
}

// digitsEnd returns the end of the run of ASCII digits at b[i:], eight
// bytes at a time: an event's timestamps in milliseconds have 13 digits,
// and a byte at a time cost seven instructions a digit.
func digitsEnd(b []byte, i int) int {
	const ones = 0x0101010101010101
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		// A byte is a digit when its high nibble is 3 both as it is and
		// plus 6 (0x30-0x39). A carry out of a byte of 0xfa or more only
		// reaches later bytes, and that byte is not a digit anyway.
		notDigit := (x&(0xf0*ones) ^ 0x30*ones) | ((x+0x06*ones)&(0xf0*ones) ^ 0x30*ones)
		if notDigit != 0 {
			return i + bits.TrailingZeros64(notDigit)/8
		}
		i += 8
	}
	for i < len(b) && b[i]-'0' < 10 {
		i++
	}
	return i
}

// parseAuth0Time reads Auth0's date form (2025-10-03T14:09:32.149Z) without
// time.Parse's generality, and falls back to time.Parse (RFC 3339) for any
// other shape. An unreadable date is the zero time.
func parseAuth0Time(b []byte) time.Time {
	if len(b) == 24 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == '.' && b[23] == 'Z' {
		year, ok1 := digitsAt(b, 0, 4)
		month, ok2 := digitsAt(b, 5, 2)
		day, ok3 := digitsAt(b, 8, 2)
		hour, ok4 := digitsAt(b, 11, 2)
		minute, ok5 := digitsAt(b, 14, 2)
		sec, ok6 := digitsAt(b, 17, 2)
		ms3, ok7 := digitsAt(b, 20, 3)
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && month >= 1 && month <= 12 && day >= 1 &&
			day <= daysIn(month, year) && hour < 24 && minute < 60 && sec < 60 {
			// time.Date normalizes; these fields need none, and the
			// day number is arithmetic (every event of an export).
			ms := ((daysFromCivil(year, month, day)*24+int64(hour))*60+int64(minute))*60 + int64(sec)
			return time.UnixMilli(ms*1000 + int64(ms3)).UTC()
		}
	}
	if len(b) == 0 {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func digitsAt(b []byte, at, n int) (int, bool) {
	v := 0
	for _, c := range b[at : at+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// daysIn is the number of days of month m (1–12) of year.
func daysIn(m, year int) int {
	if m == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (m+m/8)%2 // 31 in January, March, May, July, August, October, December
}

// daysFromCivil is the number of days from 1970-01-01 to year-month-day
// of the proleptic Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400                     // [0, 399]
	mp := (int64(month) + 9) % 12          // March = 0
	doy := (153*mp+2)/5 + int64(day) - 1   // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}
