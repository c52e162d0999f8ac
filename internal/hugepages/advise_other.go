//go:build !linux

package hugepages

func advise(addr, size uintptr) {}
