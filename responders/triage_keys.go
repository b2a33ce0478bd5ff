package responders

import (
	"hash/maphash"
	"math/bits"
)

// How Triage finds an event's address, account and pair. The keys are
// seeded hashes (hash/maphash: the runtime's AES hash, resistant to
// chosen collisions: user names are attacker-typed), computed by whoever
// parses the event — in TriageLogStream, the parsing goroutines, in
// parallel — so that the fold does one lookup by a 64-bit key for the
// pair, which holds its address and account, and touches neither the
// strings nor the address and account indexes unless the pair is new. Two
// keys of ~200,000 colliding has a probability of about 1e-9 per triage.

// eventKeys place an event: its address, its account (a user id, or the
// lowercased user name of a name-only account) and the user name as sent.
// Zero means absent.
type eventKeys struct {
	ip, acct, name uint64
	// byName: acct is a name-only account's.
	byName bool
}

// triageSeeds are a triage's hash functions: one for addresses, user ids
// and names as sent, one for the lowercased names of name-only accounts
// (a user name equal to a user id must not be the same account).
type triageSeeds struct {
	key, name maphash.Seed
}

func newTriageSeeds() triageSeeds {
	return triageSeeds{key: maphash.MakeSeed(), name: maphash.MakeSeed()}
}

// hashKey is a non-zero hash of s (zero means absent).
func hashKey(seed maphash.Seed, s string) uint64 { return maphash.String(seed, s) | 1 }

// keysOf computes an event's keys; lower is scratch space for a
// lowercased name (returned, to be reused).
func (sd triageSeeds) keysOf(ip, userID, userName []byte, lower []byte) (eventKeys, []byte) {
	var k eventKeys
	if len(ip) > 0 {
		k.ip = maphash.Bytes(sd.key, ip) | 1
	}
	if len(userName) > 0 {
		k.name = maphash.Bytes(sd.key, userName) | 1
	}
	switch {
	case len(userID) > 0:
		k.acct = maphash.Bytes(sd.key, userID) | 1
	case len(userName) > 0:
		lower = appendLowerASCII(lower[:0], userName)
		k.acct, k.byName = maphash.Bytes(sd.name, lower)|1, true
	}
	return k, lower
}

// stringKeys is keysOf for strings (Triage.Add).
func (sd triageSeeds) stringKeys(ip, userID, userName string) eventKeys {
	var k eventKeys
	if ip != "" {
		k.ip = hashKey(sd.key, ip)
	}
	if userName != "" {
		k.name = hashKey(sd.key, userName)
	}
	switch {
	case userID != "":
		k.acct = hashKey(sd.key, userID)
	case userName != "":
		k.acct, k.byName = hashKey(sd.name, lowerASCII(userName)), true
	}
	return k
}

// acctKey is the key of a stored account (its key is lowercased already
// for a name-only account).
func (sd triageSeeds) acctKey(key string, byName bool) uint64 {
	if byName {
		return hashKey(sd.name, key)
	}
	return hashKey(sd.key, key)
}

// pairKey is the key of an (address, account) pair (never zero, like
// every key).
func pairKey(ip, acct uint64) uint64 {
	return (ip ^ bits.RotateLeft64(acct, 29)) | 1
}

func appendLowerASCII(dst, s []byte) []byte {
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// keyIndex maps keys (non-zero seeded hashes) to indexes: an open
// addressing table with linear probing, half full at most. A lookup reads
// one 16-byte slot, mostly, where a Go map reads a group's control word
// and then its slot: the fold of a large export is bound by such reads.
// Linear probing is safe here because the keys are seeded hashes, which
// a hostile export cannot make collide.
type keyIndex struct {
	slots []keySlot // a power of two of them
	n     int
}

type keySlot struct {
	key uint64 // 0: empty
	val uint32
}

// get returns the index of k.
func (x *keyIndex) get(k uint64) (uint32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.key == k {
			return s.val, true
		}
		if s.key == 0 {
			return 0, false
		}
	}
}

// put sets the index of k.
func (x *keyIndex) put(k uint64, v uint32) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	mask := uint64(len(x.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.key == k {
			s.val = v
			return
		}
		if s.key == 0 {
			*s = keySlot{k, v}
			x.n++
			return
		}
	}
}

// len is the number of keys.
func (x *keyIndex) len() int { return x.n }

func (x *keyIndex) grow() {
	old := x.slots
	x.slots, x.n = make([]keySlot, max(2*len(old), 64)), 0
	adviseHugePages(x.slots)
	for _, s := range old {
		if s.key != 0 {
			x.put(s.key, s.val)
		}
	}
}
