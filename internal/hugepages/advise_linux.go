//go:build linux

package hugepages

import "golang.org/x/sys/unix"

const hugePage = 2 << 20

// advise marks the whole huge pages inside [addr, addr+size) MADV_HUGEPAGE.
// The range is given as addresses so that no Go pointer is made to point
// outside the allocation; errors (an old kernel, huge pages disabled) are
// ignored.
func advise(addr, size uintptr) {
	start := (addr + hugePage - 1) &^ (hugePage - 1)
	end := (addr + size) &^ (hugePage - 1)
	if end <= start {
		return
	}
	unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_HUGEPAGE)
}
