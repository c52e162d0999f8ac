//go:build !openblas || !cgo

package gemm

// Backend names the implementation that computes the products.
const Backend = "go"

// external computes the product with a library when the build links one; in
// this build there is none.
func external[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) bool {
	return false
}
