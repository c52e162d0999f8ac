//go:build !linux

package index

// mmapFlags returns the flags for bbolt's mapping of the file: MAP_POPULATE
// exists only on Linux.
func mmapFlags(bool) int { return 0 }

// willNeed is read-ahead advice for a mapped range; other systems get
// none, and read the pages when they are touched.
func willNeed(span, func() bool) {}
