//go:build !amd64 || purego

package hnsw

// The code kernels have no assembly here: the Go loops do all the work.

func codeDotAsm([]float32, []uint8) (float32, int) { return 0, 0 }

func codeSquaredAsm(_, _ []float32, _ []uint8) (float32, int) { return 0, 0 }

func codeDotRowsAsm(_ []float32, _ []uint8, _ []uint32, _ []float32) bool { return false }
