package gemm

import (
	"fmt"
	"runtime"
	"sync"
)

// Float is the element type of the matrices: float32 or float64.
type Float interface{ ~float32 | ~float64 }

// Tile and block sizes. A packed panel of A (mr rows) and one of B (nr
// columns) over kc steps fit in the 32 KiB L1 cache of the target cores; a
// packed mc×kc block of A fits in L2.
const (
	mr = 6
	nr = 16
	kc = 256
	mc = 144
	nc = 2048
)

// Threads is the largest number of goroutines one product is split
// between; 0 means runtime.GOMAXPROCS(0). Set it before use, not while
// products run.
var Threads = 0

// minParallelWork is the number of multiply-adds below which a product runs
// on the calling goroutine alone: starting goroutines would cost more.
const minParallelWork = 1 << 19

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(A) is m×k, op(B)
// is k×n and C is m×n, all row-major with leading dimensions (row strides)
// lda, ldb and ldc. op(X) is X, or its transpose when the matching trans
// flag is set (then A is stored k×m, or B n×k). When beta is 0, C need not
// be initialized: NaNs in it do not propagate.
//
// Gemm panics if a slice is too short for its dimensions.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkArgs(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	// With beta 0 the first block of k stores its tiles instead of adding
	// them, so C is neither cleared nor read.
	if beta != 0 {
		scale(m, n, beta, c, ldc)
	}
	p := problem[T]{transA: transA, transB: transB, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, overwrite: beta == 0}
	workers := Threads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if m*n*k < minParallelWork {
		workers = 1
	}
	// Split the larger side of C, in whole tiles, so that each goroutine
	// packs as little of the shared operand again as possible.
	var parts [][4]int
	if m/mr >= n/nr {
		parts = split(m, mr, workers, func(lo, hi int) [4]int { return [4]int{lo, hi, 0, n} })
	} else {
		parts = split(n, nr, workers, func(lo, hi int) [4]int { return [4]int{0, m, lo, hi} })
	}
	if len(parts) == 1 {
		p.run(parts[0])
		return
	}
	var wg sync.WaitGroup
	for _, part := range parts[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(part)
		}()
	}
	p.run(parts[0])
	wg.Wait()
}

// split cuts [0, size) into at most workers ranges of whole units.
func split(size, unit, workers int, mk func(lo, hi int) [4]int) [][4]int {
	units := (size + unit - 1) / unit
	workers = max(1, min(workers, units))
	parts := make([][4]int, 0, workers)
	lo := 0
	for w := range workers {
		hi := min(size, (units*(w+1)/workers)*unit)
		if hi > lo {
			parts = append(parts, mk(lo, hi))
		}
		lo = hi
	}
	return parts
}

func checkArgs(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	need := func(name string, rows, cols, ld, length int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("gemm: leading dimension of %s is %d, less than its %d columns", name, ld, cols))
		}
		if length < (rows-1)*ld+cols {
			panic(fmt.Sprintf("gemm: %s has %d elements, %d×%d with stride %d needs %d", name, length, rows, cols, ld, (rows-1)*ld+cols))
		}
	}
	if transA {
		need("A", k, m, lda, la)
	} else {
		need("A", m, k, lda, la)
	}
	if transB {
		need("B", n, k, ldb, lb)
	} else {
		need("B", k, n, ldb, lb)
	}
	need("C", m, n, ldc, lc)
}

// scale multiplies C by beta; a beta of 0 clears C.
func scale[T Float](m, n int, beta T, c []T, ldc int) {
	switch beta {
	case 1:
	case 0:
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
	default:
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

type problem[T Float] struct {
	transA, transB bool
	overwrite      bool // the first block of k stores rather than adds
	k              int
	alpha          T
	a, b, c        []T
	lda, ldb, ldc  int
}

// buffers holds the packed panels of one goroutine.
type buffers[T Float] struct {
	a, b []T
	tile [mr * nr]T
}

var (
	pool32 = sync.Pool{New: func() any { return new(buffers[float32]) }}
	pool64 = sync.Pool{New: func() any { return new(buffers[float64]) }}
)

func getBuffers[T Float]() (*buffers[T], *sync.Pool) {
	var zero T
	var pool *sync.Pool
	switch any(zero).(type) {
	case float32:
		pool = &pool32
	default:
		pool = &pool64
	}
	buf, ok := pool.Get().(*buffers[T])
	if !ok {
		// ~float32 types other than float32 itself share nothing.
		buf = new(buffers[T])
		pool = nil
	}
	return buf, pool
}

// run adds alpha·op(A)·op(B) to the part rows [r[0], r[1]) × columns
// [r[2], r[3]) of C.
func (p *problem[T]) run(r [4]int) {
	buf, pool := getBuffers[T]()
	if pool != nil {
		defer pool.Put(buf)
	}
	kern := kernelFor[T]()
	// A is read in place, not packed, when it is stored by rows and needs
	// no scaling: packing it would cost about as much as the products when
	// C has few columns, as in a convolution's forward pass.
	direct := directKernelFor[T]()
	if p.transA || p.alpha != 1 {
		direct = nil
	}
	m0, m1, n0, n1 := r[0], r[1], r[2], r[3]
	for jc := n0; jc < n1; jc += nc {
		ncur := min(nc, n1-jc)
		nPanels := (ncur + nr - 1) / nr
		for pc := 0; pc < p.k; pc += kc {
			kcur := min(kc, p.k-pc)
			buf.b = grow(buf.b, nPanels*nr*kcur)
			p.packB(buf.b, pc, kcur, jc, ncur)
			for ic := m0; ic < m1; ic += mc {
				mcur := min(mc, m1-ic)
				if direct != nil {
					p.macroDirect(buf, kern, direct, ic, mcur, jc, ncur, pc, kcur, !(pc == 0 && p.overwrite))
					continue
				}
				mPanels := (mcur + mr - 1) / mr
				buf.a = grow(buf.a, mPanels*mr*kcur)
				p.packA(buf.a, ic, mcur, pc, kcur)
				p.macro(buf, kern, ic, mcur, jc, ncur, kcur, !(pc == 0 && p.overwrite))
			}
		}
	}
}

func grow[T Float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// macro multiplies the packed block of A (mcur×kcur) by the packed block of
// B (kcur×ncur) into C at (ic, jc).
func (p *problem[T]) macro(buf *buffers[T], kern func(k int, a, b, c []T, ldc int, accumulate bool), ic, mcur, jc, ncur, kcur int, accumulate bool) {
	for jr := 0; jr < ncur; jr += nr {
		cols := min(nr, ncur-jr)
		bp := buf.b[jr*kcur : (jr+nr)*kcur]
		for ir := 0; ir < mcur; ir += mr {
			rows := min(mr, mcur-ir)
			ap := buf.a[ir*kcur : (ir+mr)*kcur]
			off := (ic+ir)*p.ldc + jc + jr
			if rows == mr && cols == nr {
				kern(kcur, ap, bp, p.c[off:], p.ldc, accumulate)
				continue
			}
			tile := buf.tile[:]
			kern(kcur, ap, bp, tile, nr, false)
			for i := range rows {
				dst := p.c[off+i*p.ldc : off+i*p.ldc+cols]
				src := tile[i*nr : i*nr+cols]
				if !accumulate {
					copy(dst, src)
					continue
				}
				for j := range dst {
					dst[j] += src[j]
				}
			}
		}
	}
}

// macroDirect is macro with A read in place: for each panel of six rows of
// A, which stays in the L1 cache, it runs along the panels of B. A last
// panel of fewer rows is packed.
func (p *problem[T]) macroDirect(buf *buffers[T], kern func(k int, a, b, c []T, ldc int, accumulate bool),
	direct func(k int, a []T, lda int, b, c []T, ldc int, accumulate bool), ic, mcur, jc, ncur, pc, kcur int, accumulate bool) {
	for ir := 0; ir < mcur; ir += mr {
		rows := min(mr, mcur-ir)
		var ap []T
		if rows < mr {
			buf.a = grow(buf.a, mr*kcur)
			p.packA(buf.a, ic+ir, rows, pc, kcur)
			ap = buf.a[:mr*kcur]
		}
		aoff := (ic+ir)*p.lda + pc
		for jr := 0; jr < ncur; jr += nr {
			cols := min(nr, ncur-jr)
			bp := buf.b[jr*kcur : (jr+nr)*kcur]
			off := (ic+ir)*p.ldc + jc + jr
			if rows == mr && cols == nr {
				direct(kcur, p.a[aoff:], p.lda, bp, p.c[off:], p.ldc, accumulate)
				continue
			}
			tile := buf.tile[:]
			if rows == mr {
				direct(kcur, p.a[aoff:], p.lda, bp, tile, nr, false)
			} else {
				kern(kcur, ap, bp, tile, nr, false)
			}
			for i := range rows {
				dst := p.c[off+i*p.ldc : off+i*p.ldc+cols]
				src := tile[i*nr : i*nr+cols]
				if !accumulate {
					copy(dst, src)
					continue
				}
				for j := range dst {
					dst[j] += src[j]
				}
			}
		}
	}
}

// packA copies rows [i0, i0+rows) × columns [p0, p0+kk) of alpha·op(A) into
// panels of mr rows, stored column after column, padded with zeros.
func (p *problem[T]) packA(dst []T, i0, rows, p0, kk int) {
	if p.transA {
		p.packATransposed(dst, i0, rows, p0, kk)
		return
	}
	alpha := p.alpha
	for ir := 0; ir < rows; ir += mr {
		panel := dst[ir*kk : (ir+mr)*kk]
		n := min(mr, rows-ir)
		if n < mr {
			clear(panel)
			for i := range n {
				src := p.a[(i0+ir+i)*p.lda+p0 : (i0+ir+i)*p.lda+p0+kk]
				for q, v := range src {
					panel[q*mr+i] = alpha * v
				}
			}
			continue
		}
		// Read six rows side by side and write the panel in order.
		base := (i0+ir)*p.lda + p0
		r0 := p.a[base : base+kk]
		r1 := p.a[base+p.lda : base+p.lda+kk]
		r2 := p.a[base+2*p.lda : base+2*p.lda+kk]
		r3 := p.a[base+3*p.lda : base+3*p.lda+kk]
		r4 := p.a[base+4*p.lda : base+4*p.lda+kk]
		r5 := p.a[base+5*p.lda : base+5*p.lda+kk]
		if alpha == 1 {
			for q := range r0 {
				col := panel[q*mr : q*mr+mr : q*mr+mr]
				col[0], col[1], col[2], col[3], col[4], col[5] = r0[q], r1[q], r2[q], r3[q], r4[q], r5[q]
			}
			continue
		}
		for q := range r0 {
			col := panel[q*mr : q*mr+mr : q*mr+mr]
			col[0], col[1], col[2] = alpha*r0[q], alpha*r1[q], alpha*r2[q]
			col[3], col[4], col[5] = alpha*r3[q], alpha*r4[q], alpha*r5[q]
		}
	}
}

// packATransposed packs when op(A) = Aᵀ: each row of A gives one column of
// every panel, so A is read in order.
func (p *problem[T]) packATransposed(dst []T, i0, rows, p0, kk int) {
	alpha := p.alpha
	full := rows / mr * mr
	for q := range kk {
		src := p.a[(p0+q)*p.lda+i0 : (p0+q)*p.lda+i0+rows]
		for ir := 0; ir < full; ir += mr {
			s := src[ir : ir+mr : ir+mr]
			col := dst[ir*kk+q*mr : ir*kk+q*mr+mr : ir*kk+q*mr+mr]
			col[0], col[1], col[2] = alpha*s[0], alpha*s[1], alpha*s[2]
			col[3], col[4], col[5] = alpha*s[3], alpha*s[4], alpha*s[5]
		}
		if full < rows {
			col := dst[full*kk+q*mr : full*kk+q*mr+mr]
			for i := range mr {
				if full+i < rows {
					col[i] = alpha * src[full+i]
				} else {
					col[i] = 0
				}
			}
		}
	}
}

// packB copies rows [p0, p0+kk) × columns [j0, j0+cols) of op(B) into
// panels of nr columns, stored row after row, padded with zeros.
func (p *problem[T]) packB(dst []T, p0, kk, j0, cols int) {
	if p.transB {
		p.packBTransposed(dst, p0, kk, j0, cols)
		return
	}
	// Row by row of B, so that B is read in order.
	full := cols / nr * nr
	packRow := packRowFor[T]()
	for q := range kk {
		src := p.b[(p0+q)*p.ldb+j0 : (p0+q)*p.ldb+j0+cols]
		if packRow != nil {
			packRow(dst[q*nr:], kk*nr, src, full/nr)
		}
		for jr := 0; jr < full && packRow == nil; jr += nr {
			s := src[jr : jr+nr : jr+nr]
			row := dst[jr*kk+q*nr : jr*kk+q*nr+nr : jr*kk+q*nr+nr]
			row[0], row[1], row[2], row[3] = s[0], s[1], s[2], s[3]
			row[4], row[5], row[6], row[7] = s[4], s[5], s[6], s[7]
			row[8], row[9], row[10], row[11] = s[8], s[9], s[10], s[11]
			row[12], row[13], row[14], row[15] = s[12], s[13], s[14], s[15]
		}
		if full < cols {
			row := dst[full*kk+q*nr : full*kk+q*nr+nr]
			n := copy(row, src[full:])
			clear(row[n:])
		}
	}
}

// packBTransposed packs when op(B) = Bᵀ: column j of op(B) is row j of B.
func (p *problem[T]) packBTransposed(dst []T, p0, kk, j0, cols int) {
	for jr := 0; jr < cols; jr += nr {
		panel := dst[jr*kk : (jr+nr)*kk]
		n := min(nr, cols-jr)
		if n < nr {
			clear(panel)
		}
		for j := range n {
			src := p.b[(j0+jr+j)*p.ldb+p0 : (j0+jr+j)*p.ldb+p0+kk]
			for q, v := range src {
				panel[q*nr+j] = v
			}
		}
	}
}

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
