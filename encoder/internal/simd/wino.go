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
