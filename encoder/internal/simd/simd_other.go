//go:build !amd64 || purego

package simd

// adamAsm and reluGradAsm handle no elements in this build.
func adamAsm(w, g, m, v []float32, b1, b2, eps, stepSize, invSqrtC2 float32) int { return 0 }
func reluGradAsm(y, dy, dx []float32) int                                        { return 0 }
func biasReLUAsm(dst, src, bias []float32, relu bool) int                        { return 0 }

func winoInputAsm(d *[16][]float32, u []float32, stride, c int) int               { return 0 }
func winoOutputAsm(m []float32, stride int, y *[4][]float32, c int) int           { return 0 }
func winoOutputAdjointAsm(y *[4][]float32, dm []float32, stride, c int) int       { return 0 }
func wino22InputAsm(d *[9][]float32, u []float32, stride, c int) int              { return 0 }
func wino22InputAdjointAsm(dv []float32, stride int, d *[9][]float32, c int) int  { return 0 }
func wino22OutputAsm(m []float32, stride int, y *[4][]float32, c int) int         { return 0 }
func wino22OutputAdjointAsm(y *[4][]float32, dm []float32, stride, c int) int     { return 0 }
func wino43InputAsm(d *[36][]float32, u []float32, stride, c int) int             { return 0 }
func wino43OutputAsm(m []float32, stride int, y *[16][]float32, c int) int        { return 0 }
func wino43OutputAdjointAsm(y *[16][]float32, dm []float32, stride, c int) int    { return 0 }
func wino42InputAsm(d *[25][]float32, u []float32, stride, c int) int             { return 0 }
func wino42InputAdjointAsm(dv []float32, stride int, d *[25][]float32, c int) int { return 0 }
func wino42OutputAsm(m []float32, stride int, y *[16][]float32, c int) int        { return 0 }
func wino42OutputAdjointAsm(y *[16][]float32, dm []float32, stride, c int) int    { return 0 }
