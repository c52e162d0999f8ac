//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// useAsm tells whether the AVX2/FMA float32 micro-kernel can run here.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16 adds (or, unless accumulate, stores) the product of a 6×k
// packed panel at a and a k×16 packed panel at b to the 6×16 tile of
// float32 at c, whose rows are ldc apart.
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int, accumulate bool)

func kernelF32(k int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[k*mr-1]
	_ = b[k*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernel6x16(k, &a[0], &b[0], &c[0], ldc, accumulate)
}
