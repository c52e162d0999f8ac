//go:build amd64 && !purego

package simd

//go:noescape
func winoIn8(d *[16]*float32, u *float32, stride int, n int)

//go:noescape
func winoOut8(m *float32, stride int, y *[4]*float32, n int)

//go:noescape
func winoOutAdj8(y *[4]*float32, dm *float32, stride int, n int)

func winoInputAsm(d *[16][]float32, u []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [16]*float32
	firsts(p[:], d[:], n)
	_ = u[15*stride+n*8-1]
	winoIn8(&p, &u[0], stride, n)
	return n * 8
}

func winoOutputAsm(m []float32, stride int, y *[4][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = m[15*stride+n*8-1]
	var p [4]*float32
	firsts(p[:], y[:], n)
	winoOut8(&m[0], stride, &p, n)
	return n * 8
}

func winoOutputAdjointAsm(y *[4][]float32, dm []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [4]*float32
	firsts(p[:], y[:], n)
	_ = dm[15*stride+n*8-1]
	winoOutAdj8(&p, &dm[0], stride, n)
	return n * 8
}
