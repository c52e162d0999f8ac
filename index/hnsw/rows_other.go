//go:build !amd64 || purego

package hnsw

import "unsafe"

// Without the assembly the row kernels are never chosen and prefetching
// does nothing.

func rowsAsm(int) bool { return false }

func dotRowsAsm(_, _ []float32, _ []uint32, _ []float32) {}

func squaredRowsAsm(_, _ []float32, _ []uint32, _ []float32) {}

func prefetchNodes(unsafe.Pointer, int, []uint32) {}

func prefetch(unsafe.Pointer) {}
