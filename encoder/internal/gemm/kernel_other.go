//go:build !amd64 || purego

package gemm

// useAsm is false: there is no assembly kernel in this build.
var useAsm = false

func kernelF32(k int, a, b, c []float32, ldc int, accumulate bool) {
	kernelGo(k, a, b, c, ldc, accumulate)
}
