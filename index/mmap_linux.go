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
func willNeed(b span, quit func() bool) {
	page := pageSize
	resident := make([]byte, readaheadWindow/page)
	for b.len > 0 && !quit() {
		window := span{b.start, min(b.len, readaheadWindow)}
		b = span{window.end(), b.len - window.len}
		if mincore(window, resident) != nil {
			clear(resident) // unknown: ask for all of it
		}
		for off := uintptr(0); off < window.len; off += readaheadPiece {
			piece := span{window.start + off, min(window.len-off, readaheadPiece)}
			missing := false
			for _, r := range resident[off/page : (off+piece.len+page-1)/page] {
				if r&1 == 0 {
					missing = true
					break
				}
			}
			if missing {
				// Advice: an error only means no read-ahead.
				unix.Syscall(unix.SYS_MADVISE, piece.start, piece.len, unix.MADV_WILLNEED)
			}
			if quit() {
				return
			}
		}
	}
}

// mincore sets resident[i]&1 when page i of the mapped range b is in the
// page cache.
func mincore(b span, resident []byte) error {
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, b.start, b.len, uintptr(unsafe.Pointer(unsafe.SliceData(resident))))
	if errno != 0 {
		return errno
	}
	return nil
}
