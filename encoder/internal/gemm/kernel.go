package gemm

// kernel is a micro-kernel with the packing it needs.
type kernel[T Float] struct {
	name string
	// mr×nr is the tile of C the kernel computes: panels of A hold mr rows,
	// panels of B nr columns.
	mr, nr int
	// tile adds (or, unless accumulate, stores) the product of an mr×k
	// packed panel of A and a k×nr packed panel of B to the mr×nr tile of C.
	tile func(k int, a, b, c []T, ldc int, accumulate bool)
	// direct is tile with A read in place from mr rows lda apart, or nil.
	direct func(k int, a []T, lda int, b, c []T, ldc int, accumulate bool)
	// packRow packs one row of B into panels, stride elements apart, or
	// is nil (then Go code copies).
	packRow func(dst []T, stride int, src []T, panels int)
	// narrow and narrowDirect, if not nil, are tile and direct for tiles
	// of at most nr/2 columns (of a panel still nr wide), on the right edge
	// of C, with the same bits as tile and direct.
	narrow       func(k int, a, b, c []T, ldc int, accumulate bool)
	narrowDirect func(k int, a []T, lda int, b, c []T, ldc int, accumulate bool)
	// packPanelT packs nr rows of B, ldb apart, as one panel of Bᵀ over kk
	// steps, or is nil (then Go code copies).
	packPanelT func(dst, src []T, ldb, kk int)
}

// Largest tile of any kernel, for the buffer of edge tiles.
const (
	maxMR = 12
	maxNR = 32
)

// goKernel is the portable kernel.
func goKernel[T Float]() kernel[T] {
	return kernel[T]{name: KernelGo, mr: 6, nr: 16, tile: kernelGo[T]}
}

// kernelFor returns the kernel Gemm uses for T: the selected one for
// float32 (see UseKernel), the portable one otherwise.
func kernelFor[T Float]() kernel[T] {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return any(float32Kernels[selected.Load()]).(kernel[T])
	}
	return goKernel[T]()
}

// kernelGo is the portable micro-kernel for 6×16 tiles: 2×8 sub-tiles
// keep their sums in registers, and the panels are walked by reslicing so
// that the compiler drops the bounds checks of the inner loop.
func kernelGo[T Float](k int, a, b, c []T, ldc int, accumulate bool) {
	const mr, nr = 6, 16
	a = a[:k*mr]
	b = b[:k*nr]
	_ = c[(mr-1)*ldc+nr-1]
	for i0 := 0; i0 < mr; i0 += 2 {
		for j0 := 0; j0 < nr; j0 += 8 {
			var c00, c01, c02, c03, c04, c05, c06, c07 T
			var c10, c11, c12, c13, c14, c15, c16, c17 T
			ap, bp := a[i0:], b[j0:]
			for range k {
				aa := ap[:2:2]
				bb := bp[:8:8]
				a0, a1 := aa[0], aa[1]
				c00 += a0 * bb[0]
				c01 += a0 * bb[1]
				c02 += a0 * bb[2]
				c03 += a0 * bb[3]
				c04 += a0 * bb[4]
				c05 += a0 * bb[5]
				c06 += a0 * bb[6]
				c07 += a0 * bb[7]
				c10 += a1 * bb[0]
				c11 += a1 * bb[1]
				c12 += a1 * bb[2]
				c13 += a1 * bb[3]
				c14 += a1 * bb[4]
				c15 += a1 * bb[5]
				c16 += a1 * bb[6]
				c17 += a1 * bb[7]
				if len(ap) > mr {
					ap, bp = ap[mr:], bp[nr:]
				}
			}
			r0 := c[i0*ldc+j0 : i0*ldc+j0+8 : i0*ldc+j0+8]
			r1 := c[(i0+1)*ldc+j0 : (i0+1)*ldc+j0+8 : (i0+1)*ldc+j0+8]
			if !accumulate {
				clear(r0)
				clear(r1)
			}
			r0[0] += c00
			r0[1] += c01
			r0[2] += c02
			r0[3] += c03
			r0[4] += c04
			r0[5] += c05
			r0[6] += c06
			r0[7] += c07
			r1[0] += c10
			r1[1] += c11
			r1[2] += c12
			r1[3] += c13
			r1[4] += c14
			r1[5] += c15
			r1[6] += c16
			r1[7] += c17
		}
	}
}
