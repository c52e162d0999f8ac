package gemm

// kernelFor returns the micro-kernel for T: it adds (or, unless
// accumulate, stores) the product of an mr×k packed panel of A and a k×nr
// packed panel of B to the mr×nr tile of C.
func kernelFor[T Float]() func(k int, a, b, c []T, ldc int, accumulate bool) {
	var zero T
	if _, ok := any(zero).(float32); ok && useAsm {
		return any(kernelF32).(func(k int, a, b, c []T, ldc int, accumulate bool))
	}
	return kernelGo[T]
}

// directKernelFor returns the micro-kernel that reads A in place, or nil if
// there is none for T here.
func directKernelFor[T Float]() func(k int, a []T, lda int, b, c []T, ldc int, accumulate bool) {
	var zero T
	if _, ok := any(zero).(float32); ok && useAsm {
		return any(kernelDirectF32).(func(k int, a []T, lda int, b, c []T, ldc int, accumulate bool))
	}
	return nil
}

// packRowFor returns the assembly routine that packs one row of B into
// panels, or nil if there is none for T here.
func packRowFor[T Float]() func(dst []T, stride int, src []T, panels int) {
	var zero T
	if _, ok := any(zero).(float32); ok && useAsm {
		return any(packRowF32).(func(dst []T, stride int, src []T, panels int))
	}
	return nil
}

// kernelGo is the portable micro-kernel: 2×8 sub-tiles keep their sums in
// registers, and the panels are walked by reslicing so that the compiler
// drops the bounds checks of the inner loop.
func kernelGo[T Float](k int, a, b, c []T, ldc int, accumulate bool) {
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
