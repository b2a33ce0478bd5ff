//go:build !amd64 || purego

package responders

// quoteMasks is quoteMasksGeneric where there is no assembly for it.
func quoteMasks(b []byte, masks []uint64, inString bool) uint64 {
	return quoteMasksGeneric(b, masks, inString)
}
