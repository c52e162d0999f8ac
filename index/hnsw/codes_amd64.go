//go:build amd64 && !purego

package hnsw

import "golang.org/x/sys/cpu"

// useAVX2 tells whether the code kernels' assembly can run here.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// codeDot16 returns Σ a[i]·c[i] over n·16 values.
//
//go:noescape
func codeDot16(a *float32, c *uint8, n int) float32

// codeSquared16 returns Σ (a[i] − scale[i]·c[i])² over n·16 values.
//
//go:noescape
func codeSquared16(a, scale *float32, c *uint8, n int) float32

// codeDotAsm returns the sum over the leading multiple of 16 values and
// how many it covered.
func codeDotAsm(a []float32, c []uint8) (float32, int) {
	n := len(a) / 16
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	_ = c[n*16-1]
	return codeDot16(&a[0], &c[0], n), n * 16
}

// codeSquaredAsm is codeDotAsm for codeSquaredDistance.
func codeSquaredAsm(a, scale []float32, c []uint8) (float32, int) {
	n := len(a) / 16
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	_, _ = c[n*16-1], scale[n*16-1]
	return codeSquared16(&a[0], &scale[0], &c[0], n), n * 16
}
