package simd

// The transforms of Winograd's F(2×2, 3×3) over channels (see
// encoder/winograd.go, which holds their Go versions and the order of their
// additions): each handles the leading multiple of 8 of the c channels in
// assembly where it can and returns how many it did; the caller does the
// rest. Matrix ξ of u, m or dm lies at ξ·stride.

// WinoInput writes Bᵀ d B of the 4×4 tile d (16 runs of c channels, row by
// row) to u.
func WinoInput(d *[16][]float32, u []float32, stride, c int) int {
	return winoInputAsm(d, u, stride, c)
}

// WinoOutput writes Aᵀ m A of the 16 products m to the 2×2 outputs y.
func WinoOutput(m []float32, stride int, y *[4][]float32, c int) int {
	return winoOutputAsm(m, stride, y, c)
}

// WinoOutputAdjoint writes A dy Aᵀ of the 2×2 output gradients y to dm.
func WinoOutputAdjoint(y *[4][]float32, dm []float32, stride, c int) int {
	return winoOutputAdjointAsm(y, dm, stride, c)
}

// Wino22Input writes Bᵀ d B of F(2×2, 2×2) of the 3×3 tile d to u.
func Wino22Input(d *[9][]float32, u []float32, stride, c int) int {
	return wino22InputAsm(d, u, stride, c)
}

// Wino22InputAdjoint adds B dv Bᵀ, the adjoint of Wino22Input, into the
// 3×3 runs d.
func Wino22InputAdjoint(dv []float32, stride int, d *[9][]float32, c int) int {
	return wino22InputAdjointAsm(dv, stride, d, c)
}

// Wino22Output writes Aᵀ m A of F(2×2, 2×2) of the 9 products m to the 2×2
// outputs y.
func Wino22Output(m []float32, stride int, y *[4][]float32, c int) int {
	return wino22OutputAsm(m, stride, y, c)
}

// Wino22OutputAdjoint writes A dy Aᵀ of the 2×2 output gradients y to dm.
func Wino22OutputAdjoint(y *[4][]float32, dm []float32, stride, c int) int {
	return wino22OutputAdjointAsm(y, dm, stride, c)
}

// Wino43Input writes Bᵀ d B of F(4×4, 3×3) of the 6×6 tile d (36 runs of
// c channels, row by row) to u.
func Wino43Input(d *[36][]float32, u []float32, stride, c int) int {
	return wino43InputAsm(d, u, stride, c)
}

// Wino43Output writes Aᵀ m A of F(4×4, 3×3) of the 36 products m to the
// 4×4 outputs y.
func Wino43Output(m []float32, stride int, y *[16][]float32, c int) int {
	return wino43OutputAsm(m, stride, y, c)
}

// Wino43OutputAdjoint writes A dy Aᵀ of the 4×4 output gradients y to dm.
func Wino43OutputAdjoint(y *[16][]float32, dm []float32, stride, c int) int {
	return wino43OutputAdjointAsm(y, dm, stride, c)
}

// Wino42Input writes Bᵀ d B of F(4×4, 2×2) of the 5×5 tile d to u.
func Wino42Input(d *[25][]float32, u []float32, stride, c int) int {
	return wino42InputAsm(d, u, stride, c)
}

// Wino42InputAdjoint adds B dv Bᵀ, the adjoint of Wino42Input, into the
// 5×5 runs d.
func Wino42InputAdjoint(dv []float32, stride int, d *[25][]float32, c int) int {
	return wino42InputAdjointAsm(dv, stride, d, c)
}

// Wino42Output writes Aᵀ m A of F(4×4, 2×2) of the 25 products m to the
// 4×4 outputs y.
func Wino42Output(m []float32, stride int, y *[16][]float32, c int) int {
	return wino42OutputAsm(m, stride, y, c)
}

// Wino42OutputAdjoint writes A dy Aᵀ of the 4×4 output gradients y to dm.
func Wino42OutputAdjoint(y *[16][]float32, dm []float32, stride, c int) int {
	return wino42OutputAdjointAsm(y, dm, stride, c)
}
