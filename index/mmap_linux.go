package index

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmapFlags returns the flags for bbolt's mapping of the file.
func mmapFlags(populate bool) int {
	if populate {
		return syscall.MAP_POPULATE
	}
	return 0
}

// readaheadPiece is the size of one MADV_WILLNEED request. Linux caps one
// request at the device's read-ahead window (128 KiB by default), so
// larger requests would be cut short.
const readaheadPiece = 128 << 10

// readaheadWindow is how much of a range one mincore call checks.
const readaheadWindow = 4 << 20

// willNeed asks the kernel to start reading the pages of the mapped range
// b (page-aligned) that are not in the page cache, without waiting for
// them. bbolt maps the file MADV_RANDOM, so without it every page a load
// touches on a cold cache is a separate synchronous 4 KiB read. quit is
// polled between requests.
func willNeed(b []byte, quit func() bool) {
	page := int(pageSize)
	resident := make([]byte, readaheadWindow/page)
	for len(b) > 0 && !quit() {
		window := b[:min(len(b), readaheadWindow)]
		b = b[len(window):]
		if mincore(window, resident) != nil {
			clear(resident) // unknown: ask for all of it
		}
		for off := 0; off < len(window); off += readaheadPiece {
			piece := window[off:min(len(window), off+readaheadPiece)]
			missing := false
			for _, r := range resident[off/page : (off+len(piece)+page-1)/page] {
				if r&1 == 0 {
					missing = true
					break
				}
			}
			if missing {
				// Advice: an error only means no read-ahead.
				unix.Madvise(piece, unix.MADV_WILLNEED)
			}
			if quit() {
				return
			}
		}
	}
}

// mincore sets resident[i]&1 when page i of the mapped range b is in the
// page cache.
func mincore(b, resident []byte) error {
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(resident))))
	if errno != 0 {
		return errno
	}
	return nil
}
