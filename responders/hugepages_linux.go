package responders

import (
	"syscall"
	"unsafe"
)

// adviseHugePages asks the kernel to back s's memory with huge pages
// (2 MiB) when it first touches it, where it can (transparent huge pages
// in "madvise" mode, the common default). A triage's large flat arrays
// (its pairs, its indexes) fill as the export is read, each new array in
// fresh memory: with 4 KiB pages that is a page fault every 4 KiB, a
// tenth of a large triage's CPU. s must be a whole allocation of its own
// (its memory is then the array's alone). Advice the kernel does not take
// changes nothing.
func adviseHugePages[T any](s []T) {
	size := uintptr(cap(s)) * unsafe.Sizeof(*new(T))
	if size < minHugeAdvice {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s[:1]))), size)
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
}

// minHugeAdvice is the smallest array worth the system call: two huge
// pages.
const minHugeAdvice = 4 << 20
