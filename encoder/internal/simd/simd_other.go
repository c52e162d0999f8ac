//go:build !amd64 || purego

package simd

// adamAsm and reluGradAsm handle no elements in this build.
func adamAsm(w, g, m, v []float32, b1, b2, eps, stepSize, invSqrtC2 float32) int { return 0 }
func reluGradAsm(y, dy, dx []float32) int                                        { return 0 }
