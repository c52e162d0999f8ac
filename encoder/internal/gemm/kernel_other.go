//go:build !amd64 || purego

package gemm

// float32Kernels is the portable kernel alone: there is no assembly in
// this build.
var float32Kernels = []kernel[float32]{goKernel[float32]()}
