// Package simd holds the element-wise passes of training that run over
// every weight or activation of a network in each step, with AVX2
// instructions where the CPU has them: the Adam update, the gradient of
// the ReLU, and the tile transforms of Winograd's convolutions (F(2×2, 3×3)
// and F(4×4, 3×3) of the decoder, F(2×2, 2×2) and F(4×4, 2×2) of the
// encoder; their Go versions are in package encoder). Each function has the
// bits of its portable Go version, which runs elsewhere, with the purego
// build tag, and on the tails of slices.
package simd
