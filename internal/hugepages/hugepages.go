// Package hugepages allocates large slices whose memory the kernel may
// back with transparent huge pages (2 MiB on amd64) instead of 4 KiB ones.
//
// A graph search reads vectors and neighbour lists scattered over hundreds
// of MiB: with 4 KiB pages nearly every read also misses the TLB and waits
// for a page walk. On Linux, Make asks for huge pages with
// madvise(MADV_HUGEPAGE) before the memory is first touched, which the
// kernel honours when transparent huge pages are set to "always" or
// "madvise" (Debian's default). Elsewhere, or when the kernel declines,
// the slice is an ordinary one: the advice changes speed, never contents.
package hugepages

import "unsafe"

// minBytes is the smallest allocation worth advising: below it the slice
// spans at most a huge page or two.
const minBytes = 4 << 20

// Make returns make([]T, length, capacity), advised for huge pages when
// it takes at least 4 MiB.
func Make[T any](length, capacity int) []T {
	s := make([]T, length, capacity)
	var zero T
	if bytes := uintptr(capacity) * unsafe.Sizeof(zero); bytes >= minBytes {
		advise(uintptr(unsafe.Pointer(unsafe.SliceData(s))), bytes)
	}
	return s
}

// Grow returns s with capacity for at least n elements, copying it into a
// new slice made by Make when it has less.
func Grow[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s
	}
	out := Make[T](len(s), n)
	copy(out, s)
	return out
}
