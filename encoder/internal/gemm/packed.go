package gemm

import "fmt"

// PackedB is the right operand of products, op(B) of k×n, packed once for
// several products: cut into the column panels of the kernel that packed
// it, each over all of k. Products with a PackedB do not pack B again, which
// saves most of their time when A has few rows, as when a network embeds a
// few images, and lets several products share one packing.
//
// The zero value is empty; PackB fills it, reusing its memory. A PackedB is
// read by any number of products at once, but must not be packed again
// while products read it.
type PackedB[T Float] struct {
	kernel string
	k, n   int
	nr     int
	data   []T // panel i (columns i·nr …) is data[i·nr·k : (i+1)·nr·k]
}

// Current tells whether pb was packed for the kernel that products of T
// use now (see UseKernel).
func (pb *PackedB[T]) Current() bool { return pb.kernel != "" && pb.kernel == kernelFor[T]().name }

// Rows and Cols return the dimensions of op(B).
func (pb *PackedB[T]) Rows() int { return pb.k }
func (pb *PackedB[T]) Cols() int { return pb.n }

// PackB packs op(B), k×n, into dst for the kernel in use: B itself, or its
// transpose (stored n×k) when transB is set, with leading dimension ldb.
func PackB[T Float](dst *PackedB[T], transB bool, k, n int, b []T, ldb int) {
	checkArgs(false, transB, 0, n, k, 0, 1, len(b), ldb, 0, 1)
	kern := kernelFor[T]()
	nr := kern.nr
	panels := (n + nr - 1) / nr
	dst.kernel, dst.k, dst.n, dst.nr = kern.name, k, n, nr
	dst.data = grow(dst.data, panels*nr*k)
	if k == 0 || n == 0 {
		return
	}
	p := problem[T]{kern: kern, transB: transB, k: k, b: b, ldb: ldb}
	p.packB(dst.data, 0, k, 0, n)
}

// SelectRows packs into dst the rows of src (of op(B)) in the ranges
// [runs[i][0], runs[i][1]), in order: the operand of a product over only
// those steps of k. It copies whole runs of packed panels and packs
// nothing again.
func (pb *PackedB[T]) SelectRows(dst *PackedB[T], runs [][2]int) {
	k := 0
	for _, r := range runs {
		if r[0] < 0 || r[1] > pb.k || r[0] > r[1] {
			panic(fmt.Sprintf("gemm: rows [%d, %d) of a packed operand of %d rows", r[0], r[1], pb.k))
		}
		k += r[1] - r[0]
	}
	nr := pb.nr
	panels := (pb.n + nr - 1) / nr
	dst.kernel, dst.k, dst.n, dst.nr = pb.kernel, k, pb.n, nr
	dst.data = grow(dst.data, panels*nr*k)
	for i := range panels {
		src := pb.data[i*nr*pb.k : (i+1)*nr*pb.k]
		out := dst.data[i*nr*k : (i+1)*nr*k]
		for _, r := range runs {
			out = out[copy(out, src[r[0]*nr:r[1]*nr]):]
		}
	}
}

// GemmPacked is Gemm with op(B) packed in advance by PackB: C =
// alpha·op(A)·B + beta·C, where op(A) is m×k, B is k×n. The results have
// the same bits as Gemm's with the same kernel.
//
// GemmPacked panics if a slice is too short for its dimensions, if b is
// not k×n, or if b was packed for another kernel than the one in use.
func GemmPacked[T Float](transA bool, m, n, k int, alpha T, a []T, lda int, b *PackedB[T], beta T, c []T, ldc int) {
	gemmPacked(false, transA, m, n, k, alpha, a, lda, b, beta, c, ldc)
}

// GemmPackedSerial is GemmPacked on the calling goroutine alone, for
// callers that split their work between goroutines themselves.
func GemmPackedSerial[T Float](transA bool, m, n, k int, alpha T, a []T, lda int, b *PackedB[T], beta T, c []T, ldc int) {
	gemmPacked(true, transA, m, n, k, alpha, a, lda, b, beta, c, ldc)
}

func gemmPacked[T Float](serial, transA bool, m, n, k int, alpha T, a []T, lda int, b *PackedB[T], beta T, c []T, ldc int) {
	if b.k != k || b.n != n {
		panic(fmt.Sprintf("gemm: packed operand of %d×%d for a product of k=%d, n=%d", b.k, b.n, k, n))
	}
	checkArgs(transA, false, m, n, k, len(a), lda, k*n, n, len(c), ldc) // B is checked above
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	kern := kernelFor[T]()
	if kern.name != b.kernel {
		panic(fmt.Sprintf("gemm: operand packed for kernel %s, products use %s", b.kernel, kern.name))
	}
	p := problem[T]{kern: kern, serial: serial, packed: b, transA: transA, k: k, alpha: alpha, a: a, lda: lda, c: c, ldc: ldc}
	p.solve(m, n, beta)
}
