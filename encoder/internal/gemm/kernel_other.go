//go:build !amd64 || purego

package gemm

// useAsm is false: there are no assembly kernels in this build.
var useAsm = false

func kernelF32(k int, a, b, c []float32, ldc int, accumulate bool) {
	kernelGo(k, a, b, c, ldc, accumulate)
}

// kernelDirectF32 and packRowF32 are only called when useAsm is true.
func kernelDirectF32(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	panic("gemm: no direct kernel in this build")
}

func packRowF32(dst []float32, stride int, src []float32, panels int) {
	panic("gemm: no assembly packing in this build")
}
