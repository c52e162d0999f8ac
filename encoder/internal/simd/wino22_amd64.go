//go:build amd64 && !purego

package simd

//go:noescape
func wino22In8(d *[9]*float32, u *float32, stride int, n int)

//go:noescape
func wino22InAdj8(dv *float32, stride int, d *[9]*float32, n int)

//go:noescape
func wino22Out8(m *float32, stride int, y *[4]*float32, n int)

//go:noescape
func wino22OutAdj8(y *[4]*float32, dm *float32, stride int, n int)

// firsts sets dst to the first elements of runs, checking that each holds
// n·8 values.
func firsts(dst []*float32, runs [][]float32, n int) {
	for i, r := range runs {
		_ = r[n*8-1]
		dst[i] = &r[0]
	}
}

func wino22InputAsm(d *[9][]float32, u []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [9]*float32
	firsts(p[:], d[:], n)
	_ = u[8*stride+n*8-1]
	wino22In8(&p, &u[0], stride, n)
	return n * 8
}

func wino22InputAdjointAsm(dv []float32, stride int, d *[9][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = dv[8*stride+n*8-1]
	var p [9]*float32
	firsts(p[:], d[:], n)
	wino22InAdj8(&dv[0], stride, &p, n)
	return n * 8
}

func wino22OutputAsm(m []float32, stride int, y *[4][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = m[8*stride+n*8-1]
	var p [4]*float32
	firsts(p[:], y[:], n)
	wino22Out8(&m[0], stride, &p, n)
	return n * 8
}

func wino22OutputAdjointAsm(y *[4][]float32, dm []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [4]*float32
	firsts(p[:], y[:], n)
	_ = dm[8*stride+n*8-1]
	wino22OutAdj8(&p, &dm[0], stride, n)
	return n * 8
}
