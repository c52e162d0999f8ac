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

//go:noescape
func codeDotRows(a *float32, codes *uint8, dim int, nodes *uint32, n int, out *float32, ahead int)

// codeDotRowsAsm sets out[i] to Σ a[j]·c[j] over the codes c of nodes[i]
// in codes (len(a) bytes each) and reports whether it ran: only where the
// CPU has AVX2 and FMA and len(a) is a multiple of 16. The caller checks
// that every node's codes lie inside codes and that len(out) ≥ len(nodes).
func codeDotRowsAsm(a []float32, codes []uint8, nodes []uint32, out []float32) bool {
	if !useAVX2 || len(a)%16 != 0 {
		return false
	}
	if len(nodes) > 0 {
		_ = out[len(nodes)-1]
		codeDotRows(&a[0], &codes[0], len(a), &nodes[0], len(nodes), &out[0], rowsAhead)
	}
	return true
}
