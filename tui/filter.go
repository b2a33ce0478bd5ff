package tui

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sahilm/fuzzy"
)

// fuzzyIndex filters rows by a fuzzy query over their display text. It
// ranks exactly as sahilm/fuzzy does (the same bonuses and penalties), but
// keeps the keystroke inside its budget on 100k rows: it scores without
// allocating, narrows the previous result when the query grows, splits the
// work over the CPUs, and leaves the matched positions to the few rows on
// screen (highlights asks sahilm/fuzzy for those).
type fuzzyIndex struct {
	keys  []string // per row: the cleaned display text that is matched
	lower []string // per row: keys[i] lowercased when it is ASCII, else ""
	// runes holds the other rows decoded once: folded runes, their
	// character classes and byte offsets (sahilm/fuzzy scores in bytes).
	runes []*runeRow // nil for ASCII rows

	lastQuery string
	lastRows  []int // rows matching lastQuery, in row order
}

func newFuzzyIndex(keys []string) fuzzyIndex {
	ix := fuzzyIndex{keys: keys, lower: make([]string, len(keys)), runes: make([]*runeRow, len(keys))}
	for i, k := range keys {
		if isASCII(k) {
			ix.lower[i] = strings.ToLower(k)
		} else {
			ix.runes[i] = newRuneRow(k)
		}
	}
	return ix
}

type scored struct{ row, score int }

// filter returns the rows matching query, best first (ties in row order).
// An empty query returns nil: no filter.
func (ix *fuzzyIndex) filter(query string) []int {
	if query == "" {
		ix.lastQuery, ix.lastRows = "", nil
		return nil
	}
	pattern := []rune(query)
	folded := make([]rune, len(pattern))
	for i, r := range pattern {
		folded[i] = canonicalFold(r)
	}
	var lowPattern []byte
	if isASCII(query) {
		lowPattern = []byte(strings.ToLower(query))
	}
	// Every row matching "abc" also matches "ab" (a match of the longer
	// pattern contains one of its prefix), so a growing query only needs to
	// look at the previous result.
	narrow := ix.lastQuery != "" && strings.HasPrefix(query, ix.lastQuery)
	n := len(ix.keys)
	if narrow {
		n = len(ix.lastRows)
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, n/4096))
	parts := make([][]scored, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]scored, 0, (hi-lo)/8)
			for i := lo; i < hi; i++ {
				row := i
				if narrow {
					row = ix.lastRows[i]
				}
				var sc int
				var ok bool
				if rr := ix.runes[row]; rr != nil {
					sc, ok = rr.score(folded)
				} else if lowPattern != nil {
					sc, ok = fuzzyScoreASCII(lowPattern, ix.keys[row], ix.lower[row])
				} else {
					sc, ok = fuzzyScore(pattern, ix.keys[row])
				}
				if ok {
					out = append(out, scored{row, sc})
				}
			}
			parts[w] = out
		}()
	}
	wg.Wait()
	total := 0
	lo, hi := 0, 0
	for _, p := range parts {
		total += len(p)
		for _, s := range p {
			lo, hi = min(lo, s.score), max(hi, s.score)
		}
	}
	// The parts are in row order: keep that for narrowing, and rank with a
	// counting sort by score (stable, so ties stay in row order). Scores
	// span a few hundred values, so this is linear where a comparison sort
	// of 100k matches would take most of the keystroke.
	rows := make([]int, 0, total)
	if hi-lo > maxCountingSpan {
		// sahilm/fuzzy's adjacency bonus grows geometrically with each
		// adjacent matched rune: a long typed word ("credential-stuffing")
		// scores in the millions, and a counting array that wide would
		// take seconds per keystroke. Sort the matches instead.
		var all []scored
		for _, p := range parts {
			all = append(all, p...)
		}
		for _, s := range all {
			rows = append(rows, s.row)
		}
		slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
		ranked := make([]int, len(all))
		for i, s := range all {
			ranked[i] = s.row
		}
		ix.lastQuery, ix.lastRows = query, rows
		return ranked
	}
	count := make([]int, hi-lo+2)
	for _, p := range parts {
		for _, s := range p {
			rows = append(rows, s.row)
			count[hi-s.score+1]++
		}
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	ranked := make([]int, total)
	for _, p := range parts {
		for _, s := range p {
			at := &count[hi-s.score]
			ranked[*at] = s.row
			*at++
		}
	}
	ix.lastQuery, ix.lastRows = query, rows
	return ranked
}

// maxCountingSpan is the widest score range ranked by counting sort.
const maxCountingSpan = 1 << 16

// fuzzyScoreASCII is fuzzyScore for an ASCII pattern (lowercased) and an
// ASCII row (s, and lo its lowercase). Instead of visiting every byte it
// jumps, with IndexByte, to the only places where sahilm/fuzzy's state
// changes: an occurrence of the current pattern byte, the byte before an
// occurrence of the next one, and the end.
func fuzzyScoreASCII(p []byte, s, lo string) (int, bool) {
	const (
		firstCharMatchBonus            = 10
		matchFollowingSeparatorBonus   = 20
		camelCaseMatchBonus            = 20
		adjacentMatchBonus             = 5
		unmatchedLeadingCharPenalty    = -5
		maxUnmatchedLeadingCharPenalty = -15
	)
	n, L := len(p), len(s)
	// Reject what is not even a subsequence: most rows, at memchr speed.
	pos := 0
	for _, c := range p {
		i := strings.IndexByte(lo[pos:], c)
		if i < 0 {
			return 0, false
		}
		pos += i + 1
	}
	total, matched, lastMatch := 0, 0, -1
	k, bestScore, matchedIndex, currAdjacent := 0, -1, -1, 0
	for j := 0; j < L; j++ {
		next := L - 1
		if i := strings.IndexByte(lo[j:next], p[k]); i >= 0 {
			next = j + i
		}
		if k < n-1 && j+1 < L {
			if i := strings.IndexByte(lo[j+1:next+1], p[k+1]); i >= 0 {
				next = j + i
			}
		}
		j = next
		if lo[j] == p[k] {
			score := 0
			var last byte
			if j > 0 {
				last = s[j-1]
			}
			if j == 0 {
				score += firstCharMatchBonus
			}
			if 'a' <= last && last <= 'z' && 'A' <= s[j] && s[j] <= 'Z' {
				score += camelCaseMatchBonus
			}
			if j != 0 && isSep(rune(last)) {
				score += matchFollowingSeparatorBonus
			}
			if matched > 0 {
				bonus := 0
				if lastMatch == j-1 {
					bonus = currAdjacent*2 + adjacentMatchBonus
				}
				score += bonus
				currAdjacent += bonus
			}
			if score > bestScore {
				bestScore, matchedIndex = score, j
			}
		}
		end := j+1 >= L
		if (end || (k < n-1 && lo[j+1] == p[k+1])) && matchedIndex > -1 {
			if matched == 0 {
				bestScore += max(matchedIndex*unmatchedLeadingCharPenalty, maxUnmatchedLeadingCharPenalty)
			}
			total += bestScore
			matched++
			lastMatch = matchedIndex
			bestScore = -1
			k++
			if k == n {
				break // only ever at the end (sahilm/fuzzy commits the last rune there)
			}
		}
	}
	total += matched - L
	return total, matched == n
}

// highlights returns the byte offsets of query's match in s, as
// sahilm/fuzzy reports them (nil when it does not match).
func highlights(query, s string) []int {
	if query == "" {
		return nil
	}
	m := fuzzy.Find(query, []string{s})
	if len(m) == 0 {
		return nil
	}
	return m[0].MatchedIndexes
}

// fuzzyScore is sahilm/fuzzy's scoring of one string, without recording
// the matched positions (and so without allocating), with ASCII fast paths.
// TestFuzzyScoreMatchesSahilm keeps the two in step.
func fuzzyScore(runes []rune, s string) (int, bool) {
	const (
		firstCharMatchBonus            = 10
		matchFollowingSeparatorBonus   = 20
		camelCaseMatchBonus            = 20
		adjacentMatchBonus             = 5
		unmatchedLeadingCharPenalty    = -5
		maxUnmatchedLeadingCharPenalty = -15
	)
	if len(runes) == 0 || s == "" {
		return 0, false
	}
	// Cheap rejection: the first pattern rune must occur somewhere.
	if r0 := runes[0]; r0 < utf8.RuneSelf && isASCII(s) {
		lo, up := toLowerASCII(byte(r0)), toUpperASCII(byte(r0))
		if strings.IndexByte(s, lo) < 0 && (lo == up || strings.IndexByte(s, up) < 0) {
			return 0, false
		}
	}
	total := 0
	matched := 0
	lastMatch := -1
	patternIndex := 0
	bestScore := -1
	matchedIndex := -1
	currAdjacent := 0
	var last rune
	var lastIndex int
	nextc, nextSize := decodeRune(s, 0)
	var candidate rune
	var candidateSize int
	for j := 0; j < len(s); j += candidateSize {
		candidate, candidateSize = nextc, nextSize
		if patternIndex < len(runes) && foldEq(candidate, runes[patternIndex]) {
			score := 0
			if j == 0 {
				score += firstCharMatchBonus
			}
			if isLower(last) && isUpper(candidate) {
				score += camelCaseMatchBonus
			}
			if j != 0 && isSep(last) {
				score += matchFollowingSeparatorBonus
			}
			if matched > 0 {
				bonus := 0
				if lastMatch == lastIndex {
					bonus = currAdjacent*2 + adjacentMatchBonus
				}
				score += bonus
				currAdjacent += bonus
			}
			if score > bestScore {
				bestScore = score
				matchedIndex = j
			}
		}
		var nextp rune
		if patternIndex < len(runes)-1 {
			nextp = runes[patternIndex+1]
		}
		if j+candidateSize < len(s) {
			nextc, nextSize = decodeRune(s, j+candidateSize)
		} else {
			nextc, nextSize = 0, 0
		}
		if foldEq(nextp, nextc) || nextc == 0 {
			if matchedIndex > -1 {
				if matched == 0 {
					bestScore += max(matchedIndex*unmatchedLeadingCharPenalty, maxUnmatchedLeadingCharPenalty)
				}
				total += bestScore
				matched++
				lastMatch = matchedIndex
				bestScore = -1
				patternIndex++
			}
		}
		lastIndex = j
		last = candidate
	}
	total += matched - len(s)
	return total, matched == len(runes)
}

func decodeRune(s string, i int) (rune, int) {
	if s[i] < utf8.RuneSelf {
		return rune(s[i]), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func toLowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func toUpperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func isLower(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z'
	}
	return unicode.IsLower(r)
}

func isUpper(r rune) bool {
	if r < utf8.RuneSelf {
		return 'A' <= r && r <= 'Z'
	}
	return unicode.IsUpper(r)
}

func isSep(r rune) bool {
	switch r {
	case '/', '-', '_', ' ', '.', '\\':
		return true
	}
	return false
}

// foldEq is strings.EqualFold for one rune pair (as sahilm/fuzzy has it).
func foldEq(tr, sr rune) bool {
	if tr == sr {
		return true
	}
	if tr < sr {
		tr, sr = sr, tr
	}
	if tr < utf8.RuneSelf {
		return 'A' <= sr && sr <= 'Z' && tr == sr+'a'-'A'
	}
	r := unicode.SimpleFold(sr)
	for r != sr && r < tr {
		r = unicode.SimpleFold(r)
	}
	return r == tr
}

// runeRow is a non-ASCII row prepared for scoring.
type runeRow struct {
	fold  []rune  // canonicalFold of each rune
	class []uint8 // classLower, classUpper, classSep or 0
	off   []int32 // byte offset of each rune
	bytes int
}

const (
	classLower uint8 = 1 + iota
	classUpper
	classSep
)

func newRuneRow(s string) *runeRow {
	r := &runeRow{bytes: len(s)}
	for i, c := range s {
		r.fold = append(r.fold, canonicalFold(c))
		var cl uint8
		switch {
		case isLower(c):
			cl = classLower
		case isUpper(c):
			cl = classUpper
		case isSep(c):
			cl = classSep
		}
		r.class = append(r.class, cl)
		r.off = append(r.off, int32(i))
	}
	return r
}

// canonicalFold is the smallest rune of r's case-folding orbit: two runes
// fold together (as strings.EqualFold and sahilm/fuzzy have it) exactly
// when their canonical folds are equal.
func canonicalFold(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// score is fuzzyScore on the prepared row, for a pattern of canonical folds.
func (rr *runeRow) score(p []rune) (int, bool) {
	const (
		firstCharMatchBonus            = 10
		matchFollowingSeparatorBonus   = 20
		camelCaseMatchBonus            = 20
		adjacentMatchBonus             = 5
		unmatchedLeadingCharPenalty    = -5
		maxUnmatchedLeadingCharPenalty = -15
	)
	n, L := len(p), len(rr.fold)
	// Subsequence check first: most rows fail it cheaply.
	k := 0
	for _, f := range rr.fold {
		if f == p[k] {
			if k++; k == n {
				break
			}
		}
	}
	if k < n {
		return 0, false
	}
	total, matched, lastMatch := 0, 0, -1
	bestScore, matchedIndex, currAdjacent := -1, -1, 0
	k = 0
	for x := 0; x < L; x++ {
		j := int(rr.off[x])
		if rr.fold[x] == p[k] {
			score := 0
			var last uint8
			if x > 0 {
				last = rr.class[x-1]
			}
			if j == 0 {
				score += firstCharMatchBonus
			}
			if last == classLower && rr.class[x] == classUpper {
				score += camelCaseMatchBonus
			}
			if j != 0 && last == classSep {
				score += matchFollowingSeparatorBonus
			}
			if matched > 0 {
				bonus := 0
				if x > 0 && lastMatch == int(rr.off[x-1]) {
					bonus = currAdjacent*2 + adjacentMatchBonus
				}
				score += bonus
				currAdjacent += bonus
			}
			if score > bestScore {
				bestScore, matchedIndex = score, j
			}
		}
		end := x+1 >= L
		if (end || (k < n-1 && rr.fold[x+1] == p[k+1])) && matchedIndex > -1 {
			if matched == 0 {
				bestScore += max(matchedIndex*unmatchedLeadingCharPenalty, maxUnmatchedLeadingCharPenalty)
			}
			total += bestScore
			matched++
			lastMatch = matchedIndex
			bestScore = -1
			k++
			if k == n {
				break
			}
		}
	}
	total += matched - rr.bytes
	return total, matched == n
}
