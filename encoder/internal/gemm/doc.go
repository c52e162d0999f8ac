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
// micro-kernel computes a tile of C (12×32 or 6×16) from a panel of each.
//
// # Kernels
//
// The float32 micro-kernel is chosen at run time: on amd64 with AVX-512F
// one in assembly that computes 12×32 tiles in the 32 vector registers of
// AVX-512, else with AVX2 and FMA one that computes 6×16 tiles; elsewhere,
// for float64, or when built with the purego tag, a Go kernel computes 6×16
// tiles. Kernels lists those this machine has, and UseKernel (or the
// SIMSEARCH_GEMM_KERNEL environment variable at start) picks another, as
// tests and benchmarks do.
//
// A kernel sums each element of C in the same order whatever the shapes,
// the place of the element in C and the number of goroutines, so a row of
// C does not depend on the other rows of the product: an image embeds to
// the same bits alone or in a batch. Two kernels may differ in the last
// bits (the assembly kernels fuse multiply and add, the Go kernel does
// not).
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
