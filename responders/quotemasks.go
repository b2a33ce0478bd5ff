package responders

// Where a clean line's strings end: the fast path of the log-stream
// reader (logstream_fast.go) finds a string's closing quote in a mask of
// the line's quotes, computed 64 bytes at a time, rather than by a search
// per string (78 strings in a 1.4 KB event, most of them short). On amd64
// with AVX2 the masks come from quotemasks_amd64.s (about 20 instructions
// a block, which also tell whether the line is clean); elsewhere from the
// loop below. FuzzQuoteMasks checks the two agree.

// Flags quoteMasks returns.
const (
	// maskNotClean: a backslash or a byte below 0x20 (the line goes to
	// the exact scanner).
	maskNotClean = 1 << iota
	// maskNonASCII: a byte of 0x80 or more (the line must be valid UTF-8).
	maskNonASCII
	// maskSpaced: a space outside strings (strings cut at every quote).
	maskSpaced
	// maskOpenString: the bytes end inside a string.
	maskOpenString
)

// quoteMasksGeneric writes, for each whole 64-byte block of b, the mask of
// its quotes to masks (bit i is the block's byte i), and returns the flags
// of all the blocks; inString says b starts inside a string.
func quoteMasksGeneric(b []byte, masks []uint64, inString bool) (flags uint64) {
	for blk := 0; blk+64 <= len(b); blk += 64 {
		var q uint64
		for i, c := range b[blk : blk+64] {
			switch {
			case c == '"':
				q |= 1 << i
				inString = !inString
			case c == '\\' || c < 0x20:
				flags |= maskNotClean
			case c >= 0x80:
				flags |= maskNonASCII
			case c == ' ' && !inString:
				flags |= maskSpaced
			}
		}
		masks[blk/64] = q
	}
	if inString {
		flags |= maskOpenString
	}
	return flags
}
