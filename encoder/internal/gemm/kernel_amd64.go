//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// useAsm tells whether the AVX2/FMA float32 kernels can run here.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16 adds (or, unless accumulate, stores) the product of a 6×k
// packed panel at a and a k×16 packed panel at b to the 6×16 tile of
// float32 at c, whose rows are ldc apart.
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int, accumulate bool)

// kernel6x16Direct is kernel6x16 with A read from six rows lda apart.
//
//go:noescape
func kernel6x16Direct(k int, a *float32, lda int, b, c *float32, ldc int, accumulate bool)

// packRow16 copies panels·16 floats from src to panels runs of 16 at dst,
// stride floats apart.
//
//go:noescape
func packRow16(dst *float32, stride int, src *float32, panels int)

func kernelF32(k int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[k*mr-1]
	_ = b[k*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernel6x16(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernelDirectF32(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	_ = a[(mr-1)*lda+k-1]
	_ = b[k*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernel6x16Direct(k, &a[0], lda, &b[0], &c[0], ldc, accumulate)
}

func packRowF32(dst []float32, stride int, src []float32, panels int) {
	if panels == 0 {
		return
	}
	_ = src[panels*nr-1]
	_ = dst[(panels-1)*stride+nr-1]
	packRow16(&dst[0], stride, &src[0], panels)
}
