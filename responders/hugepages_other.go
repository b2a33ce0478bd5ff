//go:build !linux

package responders

// adviseHugePages does nothing where there is no madvise.
func adviseHugePages[T any](s []T) {}
