//go:build amd64 && !purego

package simd

//go:noescape
func wino42In8(d *[25]*float32, u *float32, stride int, n int)

//go:noescape
func wino42InAdj8(dv *float32, stride int, d *[25]*float32, n int)

//go:noescape
func wino42Out8(m *float32, stride int, y *[16]*float32, n int)

//go:noescape
func wino42OutAdj8(y *[16]*float32, dm *float32, stride int, n int)

func wino42InputAsm(d *[25][]float32, u []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [25]*float32
	firsts(p[:], d[:], n)
	_ = u[24*stride+n*8-1]
	wino42In8(&p, &u[0], stride, n)
	return n * 8
}

func wino42InputAdjointAsm(dv []float32, stride int, d *[25][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = dv[24*stride+n*8-1]
	var p [25]*float32
	firsts(p[:], d[:], n)
	wino42InAdj8(&dv[0], stride, &p, n)
	return n * 8
}

func wino42OutputAsm(m []float32, stride int, y *[16][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = m[24*stride+n*8-1]
	var p [16]*float32
	firsts(p[:], y[:], n)
	wino42Out8(&m[0], stride, &p, n)
	return n * 8
}

func wino42OutputAdjointAsm(y *[16][]float32, dm []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [16]*float32
	firsts(p[:], y[:], n)
	_ = dm[24*stride+n*8-1]
	wino42OutAdj8(&p, &dm[0], stride, n)
	return n * 8
}
