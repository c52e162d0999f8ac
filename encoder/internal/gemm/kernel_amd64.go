//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// float32Kernels are the kernels this CPU can run, fastest first. HasAVX512F
// also means the operating system saves the AVX-512 registers.
var float32Kernels = func() []kernel[float32] {
	var ks []kernel[float32]
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernel[float32]{name: KernelAVX512, mr: 12, nr: 32, tile: kernel12x32F32, direct: kernel12x32DirectF32, packRow: packRow32F32, packPanelT: packPanelT32F32,
			narrow: kernel12x16F32, narrowDirect: kernel12x16DirectF32})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernel[float32]{name: KernelAVX2, mr: 6, nr: 16, tile: kernel6x16F32, direct: kernel6x16DirectF32, packRow: packRow16F32})
	}
	return append(ks, goKernel[float32]())
}()

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

// kernel12x32 is kernel6x16 for a 12×k panel of A, a k×32 panel of B and
// a 12×32 tile of C, with AVX-512.
//
//go:noescape
func kernel12x32(k int, a, b, c *float32, ldc int, accumulate bool)

// kernel12x32Direct is kernel12x32 with A read from twelve rows lda apart.
//
//go:noescape
func kernel12x32Direct(k int, a *float32, lda int, b, c *float32, ldc int, accumulate bool)

// kernel12x16 is kernel12x32 for the first 16 columns of the tile and of
// the B panel, still 32 wide.
//
//go:noescape
func kernel12x16(k int, a, b, c *float32, ldc int, accumulate bool)

// kernel12x16Direct is kernel12x16 with A read from twelve rows lda apart.
//
//go:noescape
func kernel12x16Direct(k int, a *float32, lda int, b, c *float32, ldc int, accumulate bool)

// packRow32 is packRow16 for runs of 32.
//
//go:noescape
func packRow32(dst *float32, stride int, src *float32, panels int)

// packPanelT32 packs 32 rows of B, ldb apart, over kk columns, as one panel
// of Bᵀ: dst[q·32+j] = src[j·ldb+q]; idx holds j·ldb for j < 16.
//
//go:noescape
func packPanelT32(dst, src *float32, idx *int32, ldb, kk int)

func kernel6x16F32(k int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[k*6-1]
	_ = b[k*16-1]
	_ = c[5*ldc+15]
	kernel6x16(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernel6x16DirectF32(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	_ = a[5*lda+k-1]
	_ = b[k*16-1]
	_ = c[5*ldc+15]
	kernel6x16Direct(k, &a[0], lda, &b[0], &c[0], ldc, accumulate)
}

func packRow16F32(dst []float32, stride int, src []float32, panels int) {
	if panels == 0 {
		return
	}
	_ = src[panels*16-1]
	_ = dst[(panels-1)*stride+15]
	packRow16(&dst[0], stride, &src[0], panels)
}

func kernel12x32F32(k int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[k*12-1]
	_ = b[k*32-1]
	_ = c[11*ldc+31]
	kernel12x32(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernel12x32DirectF32(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	_ = a[11*lda+k-1]
	_ = b[k*32-1]
	_ = c[11*ldc+31]
	kernel12x32Direct(k, &a[0], lda, &b[0], &c[0], ldc, accumulate)
}

func packRow32F32(dst []float32, stride int, src []float32, panels int) {
	if panels == 0 {
		return
	}
	_ = src[panels*32-1]
	_ = dst[(panels-1)*stride+31]
	packRow32(&dst[0], stride, &src[0], panels)
}

func packPanelT32F32(dst, src []float32, ldb, kk int) {
	_ = dst[kk*32-1]
	_ = src[31*ldb+kk-1]
	var idx [16]int32
	for j := range idx {
		idx[j] = int32(j * ldb)
	}
	packPanelT32(&dst[0], &src[0], &idx[0], ldb, kk)
}

func kernel12x16F32(k int, a, b, c []float32, ldc int, accumulate bool) {
	_ = a[k*12-1]
	_ = b[k*32-1]
	_ = c[11*ldc+15]
	kernel12x16(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernel12x16DirectF32(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	_ = a[11*lda+k-1]
	_ = b[k*32-1]
	_ = c[11*ldc+15]
	kernel12x16Direct(k, &a[0], lda, &b[0], &c[0], ldc, accumulate)
}
