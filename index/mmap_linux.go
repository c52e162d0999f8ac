package index

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// mmapFlags returns the flags for bbolt's mapping of the file.
func mmapFlags(populate bool) int {
	if populate {
		return syscall.MAP_POPULATE
	}
	return 0
}

// willNeed asks the kernel to start reading the pages of the mapped range
// b (page-aligned) into the page cache without waiting for them. bbolt
// maps the file MADV_RANDOM, so without it every page a load touches on a
// cold cache is a separate synchronous 4 KiB read.
func willNeed(b []byte) {
	unix.Madvise(b, unix.MADV_WILLNEED) // advice: an error only means no read-ahead
}
