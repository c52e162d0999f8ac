package gemm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Float is the element type of the matrices: float32 or float64.
type Float interface{ ~float32 | ~float64 }

// Block sizes. A packed panel of A (mr rows) and one of B (nr columns)
// over kc steps fit in the L1 cache of the target cores (32 to 48 KiB); a
// packed mc×kc block of A fits in L2. mc is a multiple of every kernel's
// mr. The sums of C run over kc steps at a time, so kc is part of the order
// of the sums and does not change with the kernel's tile.
const (
	kc = 256
	mc = 144
	nc = 2048
)

// BlockK is the number of steps of k that a product sums at a time before
// adding them to C. A product cut along k into products of multiples of
// BlockK steps, each added to C in turn (beta 1), sums in the same order as
// the whole product, so it has the same bits.
const BlockK = kc

// Threads is the largest number of goroutines one product is split
// between; 0 means runtime.GOMAXPROCS(0). Set it before use, not while
// products run. The openblas build reads it once, at start, for OpenBLAS's
// own threads.
var Threads = 0

// sharers counts the callers that run products on the cores at the same
// time and have said so with Share: each gets its part of the cores.
var sharers atomic.Int32

// Share says that n more callers run products (and other parallel work)
// at the same time, each on its part of the cores, until release is
// called: the lanes of a training step, which split the batch between
// them, use one core each on two cores rather than two each by turns. The
// number of goroutines never changes a result, only the time it takes.
func Share(n int) (release func()) {
	sharers.Add(int32(n))
	return func() { sharers.Add(-int32(n)) }
}

// Workers is the number of goroutines a caller may split its work
// between now: Threads (or GOMAXPROCS) divided among the callers that
// share the cores, at least 1.
func Workers() int {
	workers := Threads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if s := int(sharers.Load()); s > 1 {
		workers = max(1, workers/s)
	}
	return workers
}

// minParallelWork is the number of multiply-adds below which a product runs
// on the calling goroutine alone: starting goroutines would cost more.
const minParallelWork = 1 << 19

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(A) is m×k, op(B)
// is k×n and C is m×n, all row-major with leading dimensions (row strides)
// lda, ldb and ldc. op(X) is X, or its transpose when the matching trans
// flag is set (then A is stored k×m, or B n×k). When beta is 0, C need not
// be initialized: NaNs in it do not propagate. A and B are only read, so
// their rows may overlap (a leading dimension below their columns), as the
// windows of a convolution over an image laid out for it do.
//
// Gemm panics if a slice is too short for its dimensions.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmSerial is Gemm on the calling goroutine alone, always with this
// package's kernels, for callers that split their work between goroutines
// themselves.
func GemmSerial[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func gemm[T Float](serial, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkArgs(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	if !serial && external(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	p := problem[T]{kern: kernelFor[T](), serial: serial, transA: transA, transB: transB, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}
	p.solve(m, n, beta)
}

// solve computes the product of p, m×n, with beta.
func (p *problem[T]) solve(m, n int, beta T) {
	// With beta 0 the first block of k stores its tiles instead of adding
	// them, so C is neither cleared nor read.
	if beta != 0 {
		scale(m, n, beta, p.c, p.ldc)
	}
	p.overwrite = beta == 0
	mr, nr := p.kern.mr, p.kern.nr
	k := p.k
	workers := Workers()
	if m*n*k < minParallelWork || p.serial {
		workers = 1
	}
	// Split the larger side of C, in whole tiles, so that each goroutine
	// packs as little of the shared operand again as possible; with B
	// packed in advance, split the rows, so that no goroutine packs anything
	// again.
	//
	// The parts (room holds those of up to 8 goroutines; more go to the
	// heap) and, on one goroutine, the problem stay on the stack: a product
	// of Winograd's tiles is small, and a step makes tens of thousands of
	// them.
	var room [8][4]int
	var parts [][4]int
	if m/mr >= n/nr || (p.packed != nil && m/mr >= workers) {
		parts = split(room[:0], m, mr, workers, func(lo, hi int) [4]int { return [4]int{lo, hi, 0, n} })
	} else {
		parts = split(room[:0], n, nr, workers, func(lo, hi int) [4]int { return [4]int{0, m, lo, hi} })
	}
	if len(parts) == 1 {
		p.run(parts[0])
		return
	}
	p.runShared(parts)
}

// runShared runs the parts on goroutines of their own but the first,
// which runs on the calling one, over a copy of p on the heap.
func (p *problem[T]) runShared(parts [][4]int) {
	shared := new(problem[T])
	*shared = *p
	var wg sync.WaitGroup
	for _, part := range parts[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shared.run(part)
		}()
	}
	shared.run(parts[0])
	wg.Wait()
}

// split cuts [0, size) into at most workers ranges of whole units,
// appended to parts.
func split(parts [][4]int, size, unit, workers int, mk func(lo, hi int) [4]int) [][4]int {
	units := (size + unit - 1) / unit
	workers = max(1, min(workers, units))
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
	// Rows of the operands, which are only read, may overlap; those of C,
	// written, must be distinct.
	need := func(name string, rows, cols, ld, length int, distinct bool) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < 0 {
			panic(fmt.Sprintf("gemm: leading dimension of %s is %d", name, ld))
		}
		if distinct && ld < cols {
			panic(fmt.Sprintf("gemm: leading dimension of %s is %d, less than its %d columns", name, ld, cols))
		}
		if length < (rows-1)*ld+cols {
			panic(fmt.Sprintf("gemm: %s has %d elements, %d×%d with stride %d needs %d", name, length, rows, cols, ld, (rows-1)*ld+cols))
		}
	}
	if transA {
		need("A", k, m, lda, la, false)
	} else {
		need("A", m, k, lda, la, false)
	}
	if transB {
		need("B", n, k, ldb, lb, false)
	} else {
		need("B", k, n, ldb, lb, false)
	}
	need("C", m, n, ldc, lc, true)
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
	kern           kernel[T]
	serial         bool        // on the calling goroutine alone
	packed         *PackedB[T] // op(B) packed in advance, or nil
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
	tile [maxMR * maxNR]T
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
	// A is read in place, not packed, when it is stored by rows and needs
	// no scaling: packing it would cost about as much as the products when
	// C has few columns, as in a convolution's forward pass.
	direct := p.kern.direct != nil && !p.transA && p.alpha == 1
	mr, nr := p.kern.mr, p.kern.nr
	m0, m1, n0, n1 := r[0], r[1], r[2], r[3]
	for jc := n0; jc < n1; jc += nc {
		ncur := min(nc, n1-jc)
		nPanels := (ncur + nr - 1) / nr
		for pc := 0; pc < p.k; pc += kc {
			kcur := min(kc, p.k-pc)
			// The panels of B for this block: packed now, or rows [pc,
			// pc+kcur) of the panels packed in advance over all of k.
			bp := panels[T]{stride: kcur * nr, n: kcur * nr}
			if p.packed != nil {
				bp.b, bp.stride = p.packed.data[jc*p.k+pc*nr:], p.k*nr
			} else {
				buf.b = grow(buf.b, nPanels*nr*kcur)
				p.packB(buf.b, pc, kcur, jc, ncur)
				bp.b = buf.b
			}
			for ic := m0; ic < m1; ic += mc {
				mcur := min(mc, m1-ic)
				if direct {
					p.macroDirect(buf, bp, ic, mcur, jc, ncur, pc, kcur, !(pc == 0 && p.overwrite))
					continue
				}
				mPanels := (mcur + mr - 1) / mr
				buf.a = grow(buf.a, mPanels*mr*kcur)
				p.packA(buf.a, ic, mcur, pc, kcur)
				p.macro(buf, bp, ic, mcur, jc, ncur, kcur, !(pc == 0 && p.overwrite))
			}
		}
	}
}

// panels locates the packed panels of B of one block of k: panel i (columns
// i·nr …) is b[i·stride : i·stride+n].
type panels[T Float] struct {
	b         []T
	stride, n int
}

func (bp panels[T]) panel(i int) []T { return bp.b[i*bp.stride : i*bp.stride+bp.n] }

func grow[T Float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// macro multiplies the packed block of A (mcur×kcur) by the packed block of
// B (kcur×ncur) into C at (ic, jc).
func (p *problem[T]) macro(buf *buffers[T], bps panels[T], ic, mcur, jc, ncur, kcur int, accumulate bool) {
	kern, mr, nr := p.kern.tile, p.kern.mr, p.kern.nr
	for jr := 0; jr < ncur; jr += nr {
		cols := min(nr, ncur-jr)
		bp := bps.panel(jr / nr)
		edge := kern
		if cols <= nr/2 && p.kern.narrow != nil {
			edge = p.kern.narrow
		}
		for ir := 0; ir < mcur; ir += mr {
			rows := min(mr, mcur-ir)
			ap := buf.a[ir*kcur : (ir+mr)*kcur]
			off := (ic+ir)*p.ldc + jc + jr
			if rows == mr && cols == nr {
				kern(kcur, ap, bp, p.c[off:], p.ldc, accumulate)
				continue
			}
			tile := buf.tile[:mr*nr]
			edge(kcur, ap, bp, tile, nr, false)
			p.storeTile(tile, off, rows, cols, accumulate)
		}
	}
}

// macroDirect is macro with A read in place: for each panel of mr rows of
// A, which stays in the L1 cache, it runs along the panels of B. A last
// panel of fewer rows is packed.
func (p *problem[T]) macroDirect(buf *buffers[T], bps panels[T], ic, mcur, jc, ncur, pc, kcur int, accumulate bool) {
	kern, direct, mr, nr := p.kern.tile, p.kern.direct, p.kern.mr, p.kern.nr
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
			bp := bps.panel(jr / nr)
			off := (ic+ir)*p.ldc + jc + jr
			if rows == mr && cols == nr {
				direct(kcur, p.a[aoff:], p.lda, bp, p.c[off:], p.ldc, accumulate)
				continue
			}
			tile := buf.tile[:mr*nr]
			narrow := cols <= nr/2 && p.kern.narrow != nil
			switch {
			case rows == mr && narrow:
				p.kern.narrowDirect(kcur, p.a[aoff:], p.lda, bp, tile, nr, false)
			case rows == mr:
				direct(kcur, p.a[aoff:], p.lda, bp, tile, nr, false)
			case narrow:
				p.kern.narrow(kcur, ap, bp, tile, nr, false)
			default:
				kern(kcur, ap, bp, tile, nr, false)
			}
			p.storeTile(tile, off, rows, cols, accumulate)
		}
	}
}

// storeTile writes (or adds, when accumulate is set) the top-left rows×cols
// of tile, an mr×nr tile computed apart because it lies on the edge of C,
// to C at offset off.
func (p *problem[T]) storeTile(tile []T, off, rows, cols int, accumulate bool) {
	nr := p.kern.nr
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
