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

// runs9 returns the first elements of the 9 runs, checking that each holds
// n·8 values.
func runs9(d *[9][]float32, n int) [9]*float32 {
	var p [9]*float32
	for i := range d {
		_ = d[i][n*8-1]
		p[i] = &d[i][0]
	}
	return p
}

// runs4 is runs9 for 4 runs.
func runs4(y *[4][]float32, n int) [4]*float32 {
	var p [4]*float32
	for i := range y {
		_ = y[i][n*8-1]
		p[i] = &y[i][0]
	}
	return p
}

func wino22InputAsm(d *[9][]float32, u []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	p := runs9(d, n)
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
	p := runs9(d, n)
	wino22InAdj8(&dv[0], stride, &p, n)
	return n * 8
}

func wino22OutputAsm(m []float32, stride int, y *[4][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = m[8*stride+n*8-1]
	p := runs4(y, n)
	wino22Out8(&m[0], stride, &p, n)
	return n * 8
}

func wino22OutputAdjointAsm(y *[4][]float32, dm []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	p := runs4(y, n)
	_ = dm[8*stride+n*8-1]
	wino22OutAdj8(&p, &dm[0], stride, n)
	return n * 8
}
