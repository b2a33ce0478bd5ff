//go:build amd64 && !purego

package responders

import "golang.org/x/sys/cpu"

// quoteMasksAVX2 is quoteMasksGeneric in AVX2 (quotemasks_amd64.s), over
// blocks 64-byte blocks from b, a mask a block into masks; inString is
// all ones or zero.
//
//go:noescape
func quoteMasksAVX2(b *byte, blocks int, masks *uint64, inString uint64) (flags uint64)

// hasAVX2 is read once: the processor does not change under a process.
// (The assembly also multiplies without carries: PCLMULQDQ.)
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasPCLMULQDQ

// quoteMasks is quoteMasksGeneric, in AVX2 where the processor has it.
func quoteMasks(b []byte, masks []uint64, inString bool) uint64 {
	blocks := len(b) / 64
	if blocks == 0 {
		if inString {
			return maskOpenString
		}
		return 0
	}
	if !hasAVX2 {
		return quoteMasksGeneric(b, masks, inString)
	}
	_ = masks[blocks-1] // the assembly writes this far
	carry := uint64(0)
	if inString {
		carry = ^carry
	}
	return quoteMasksAVX2(&b[0], blocks, &masks[0], carry)
}
