//go:build amd64 && !purego

package simd

//go:noescape
func wino22In8(d *[9]*float32, u *float32, stride int, n int)

//go:noescape
func wino22In16(d *[9]*float32, u *float32, stride int, n int)

//go:noescape
func wino22InAdj8(dv *float32, stride int, d *[9]*float32, n int)

//go:noescape
func wino22InAdj16(dv *float32, stride int, d *[9]*float32, n int)

//go:noescape
func wino22Out8(m *float32, stride int, y *[4]*float32, n int)

//go:noescape
func wino22Out16(m *float32, stride int, y *[4]*float32, n int)

//go:noescape
func wino22OutAdj8(y *[4]*float32, dm *float32, stride int, n int)

//go:noescape
func wino22OutAdj16(y *[4]*float32, dm *float32, stride int, n int)

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
	w := wide(n)
	if w > 0 {
		wino22In16(&p, &u[0], stride, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino22In8(&p, &u[16*w], stride, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], d[:], c-8)
		_ = u[8*stride+c-1]
		wino22In8(&p, &u[c-8], stride, 1)
	}
	return c
}

func wino22InputAdjointAsm(dv []float32, stride int, d *[9][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = dv[8*stride+n*8-1]
	var p [9]*float32
	firsts(p[:], d[:], n)
	w := wide(n)
	if w > 0 {
		wino22InAdj16(&dv[0], stride, &p, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino22InAdj8(&dv[16*w], stride, &p, n-2*w)
	}
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
	w := wide(n)
	if w > 0 {
		wino22Out16(&m[0], stride, &p, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino22Out8(&m[16*w], stride, &p, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], y[:], c-8)
		_ = m[8*stride+c-1]
		wino22Out8(&m[c-8], stride, &p, 1)
	}
	return c
}

func wino22OutputAdjointAsm(y *[4][]float32, dm []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [4]*float32
	firsts(p[:], y[:], n)
	_ = dm[8*stride+n*8-1]
	w := wide(n)
	if w > 0 {
		wino22OutAdj16(&p, &dm[0], stride, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino22OutAdj8(&p, &dm[16*w], stride, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], y[:], c-8)
		_ = dm[8*stride+c-1]
		wino22OutAdj8(&p, &dm[c-8], stride, 1)
	}
	return c
}

// firstsAt sets dst to the elements at offset off of runs, checking that
// each holds off+8 values.
func firstsAt(dst []*float32, runs [][]float32, off int) {
	for i, r := range runs {
		_ = r[off+7]
		dst[i] = &r[off]
	}
}
