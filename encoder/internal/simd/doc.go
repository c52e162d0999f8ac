// Package simd holds the element-wise passes of training that run over
// every weight or activation of a network in each step, with AVX2
// instructions where the CPU has them: the Adam update and the gradient of
// the ReLU. Each function has the bits of its portable Go version, which
// runs elsewhere, with the purego build tag, and on the tails of slices.
package simd
