// Package gemm multiplies dense row-major matrices of float32 or float64:
// C = alpha·op(A)·op(B) + beta·C, where op transposes or not, as the BLAS
// routine of the same name.
//
// It exists because training the encoders spends most of its time in matrix
// products of the shapes a small convolutional network makes (tall, thin,
// or long in the shared dimension), and the pure-Go products available are
// several times slower than the hardware allows. The algorithm is the
// classic one of GotoBLAS and BLIS: the shared dimension is cut into blocks,
// blocks of both operands are packed into contiguous panels, and a
// micro-kernel computes a 6×16 tile of C from a panel of each.
//
// # Kernels
//
// On amd64 with AVX2 and FMA the float32 micro-kernel is written in
// assembly; elsewhere, for float64, or when built with the purego tag, a Go
// kernel computes the same tiles. Each element of C is summed in the same
// order whatever the number of goroutines, so results do not depend on how
// the work was split (the assembly kernel fuses multiply and add, so it may
// differ from the Go kernel in the last bits).
//
// # OpenBLAS
//
// Built with the openblas tag (and cgo), Gemm hands float32 and float64
// products to OpenBLAS (package gemm/openblas) instead; Backend says which
// implementation a build uses. On AVX2 machines the assembly kernel is the
// faster of the two for the encoders' shapes; OpenBLAS serves CPUs the
// assembly does not cover. It chooses kernels by shape, so results may
// differ in the last bits with the split of the work.
//
// # Concurrency
//
// Gemm may be called from several goroutines at once. A large product is
// split between up to Threads goroutines by rows or columns of C.
package gemm
