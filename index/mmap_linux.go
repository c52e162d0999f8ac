package index

import "syscall"

// mmapFlags returns the flags for bbolt's mapping of the file.
func mmapFlags(populate bool) int {
	if populate {
		return syscall.MAP_POPULATE
	}
	return 0
}
