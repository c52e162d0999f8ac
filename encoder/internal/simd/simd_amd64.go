//go:build amd64 && !purego

package simd

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"simsearch/encoder/internal/gemm"
)

// useAVX2 tells whether the assembly can run here.
var useAVX2 = cpu.X86.HasAVX2

// adam8 updates n·8 elements; c holds β1, 1 − β1, β2, 1 − β2, ε, stepSize
// and invSqrtC2.
//
//go:noescape
func adam8(w, grad, m, v *float32, n int, c *[8]float32)

// reluGrad8 handles n·8 elements.
//
//go:noescape
func reluGrad8(y, dy, dx *float32, n int)

// biasAct8 writes src + bias to dst over rows of n·8 values, then with
// relu replaces values below 0 by 0.
//
//go:noescape
func biasAct8(dst, src, bias *float32, rows, n int, relu bool)

// biasReLUAsm handles the whole rows of dst when the rows are a multiple of
// 8 values long, and returns how many values it wrote.
func biasReLUAsm(dst, src, bias []float32, relu bool) int {
	n := len(bias)
	if !useAVX2 || n == 0 || n%8 != 0 || len(dst) < n {
		return 0
	}
	rows := len(dst) / n
	_ = src[rows*n-1]
	biasAct8(&dst[0], &src[0], &bias[0], rows, n/8, relu)
	return rows * n
}

// adamAsm updates the leading multiple of 8 elements and returns how many.
func adamAsm(w, g, m, v []float32, b1, b2, eps, stepSize, invSqrtC2 float32) int {
	n := len(w) / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_, _, _ = g[n*8-1], m[n*8-1], v[n*8-1]
	c := [8]float32{b1, 1 - b1, b2, 1 - b2, eps, stepSize, invSqrtC2}
	adam8(&w[0], &g[0], &m[0], &v[0], n, &c)
	return n * 8
}

// reluGradAsm handles the leading multiple of 8 elements and returns how
// many.
func reluGradAsm(y, dy, dx []float32) int {
	n := len(y) / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_, _ = dy[n*8-1], dx[n*8-1]
	reluGrad8(&y[0], &dy[0], &dx[0], n)
	return n * 8
}

// useAVX512 tells whether the Winograd transforms run their AVX-512 twins
// (16 channels at a time, the same bits) on the leading multiples of 16
// channels: when the products use the AVX-512 kernel at start (so not where
// gemm.KernelEnv chose a narrower one, and the products and the transforms
// of an AVX2 machine can be measured on an AVX-512 one).
var useAVX512 = useAVX2 && gemm.Kernel() == gemm.KernelAVX512

// wide returns how many 16-channel groups the AVX-512 transforms take of
// n 8-channel groups.
func wide(n int) int {
	if useAVX512 {
		return n / 2
	}
	return 0
}

// skip moves each pointer of p on by k values.
func skip(p []*float32, k int) {
	for i := range p {
		p[i] = (*float32)(unsafe.Add(unsafe.Pointer(p[i]), 4*k))
	}
}
