// Package simd holds the element-wise passes of training that run over
// every weight or activation of a network in each step, with AVX2
// instructions where the CPU has them: the Adam update, the gradient of
// the ReLU, and the tile transforms of Winograd's convolutions (F(2×2, 3×3)
// and F(4×4, 3×3) of the decoder, F(2×2, 2×2) and F(4×4, 2×2) of the
// encoder; their Go versions are in package encoder). Each function has the
// bits of its portable Go version, which runs elsewhere, with the purego
// build tag, and on the tails of slices.
//
// On CPUs with AVX-512F the transforms run 16 channels at a time in zmm
// registers (wino*_avx512_amd64.s, made from the AVX2 files by the
// generator in avx512gen_test.go: the same operations in the same order,
// so the same bits), and the AVX2 code takes the last 8 channels, if any.
package simd
