//go:build openblas && cgo

package gemm

import (
	"runtime"

	"simsearch/encoder/internal/gemm/openblas"
)

// Backend names the implementation that computes the products.
const Backend = "openblas"

func init() {
	threads := Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	openblas.SetThreads(threads)
}

// external hands the product to OpenBLAS. Gemm has checked the arguments
// and handled the trivial cases (an empty C, k or alpha of 0), so every
// slice here is long enough and non-empty.
func external[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) bool {
	switch a := any(a).(type) {
	case []float32:
		openblas.Sgemm(transA, transB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		openblas.Dgemm(transA, transB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	default:
		return false
	}
	return true
}
