//go:build amd64 && !purego

package simd

//go:noescape
func wino42In8(d *[25]*float32, u *float32, stride int, n int)

//go:noescape
func wino42In16(d *[25]*float32, u *float32, stride int, n int)

//go:noescape
func wino42InAdj8(dv *float32, stride int, d *[25]*float32, n int)

//go:noescape
func wino42InAdj16(dv *float32, stride int, d *[25]*float32, n int)

//go:noescape
func wino42Out8(m *float32, stride int, y *[16]*float32, n int)

//go:noescape
func wino42Out16(m *float32, stride int, y *[16]*float32, n int)

//go:noescape
func wino42OutAdj8(y *[16]*float32, dm *float32, stride int, n int)

//go:noescape
func wino42OutAdj16(y *[16]*float32, dm *float32, stride int, n int)

func wino42InputAsm(d *[25][]float32, u []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [25]*float32
	firsts(p[:], d[:], n)
	_ = u[24*stride+n*8-1]
	w := wide(n)
	if w > 0 {
		wino42In16(&p, &u[0], stride, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino42In8(&p, &u[16*w], stride, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], d[:], c-8)
		_ = u[24*stride+c-1]
		wino42In8(&p, &u[c-8], stride, 1)
	}
	return c
}

func wino42InputAdjointAsm(dv []float32, stride int, d *[25][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = dv[24*stride+n*8-1]
	var p [25]*float32
	firsts(p[:], d[:], n)
	w := wide(n)
	if w > 0 {
		wino42InAdj16(&dv[0], stride, &p, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino42InAdj8(&dv[16*w], stride, &p, n-2*w)
	}
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
	w := wide(n)
	if w > 0 {
		wino42Out16(&m[0], stride, &p, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino42Out8(&m[16*w], stride, &p, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], y[:], c-8)
		_ = m[24*stride+c-1]
		wino42Out8(&m[c-8], stride, &p, 1)
	}
	return c
}

func wino42OutputAdjointAsm(y *[16][]float32, dm []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [16]*float32
	firsts(p[:], y[:], n)
	_ = dm[24*stride+n*8-1]
	w := wide(n)
	if w > 0 {
		wino42OutAdj16(&p, &dm[0], stride, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino42OutAdj8(&p, &dm[16*w], stride, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], y[:], c-8)
		_ = dm[24*stride+c-1]
		wino42OutAdj8(&p, &dm[c-8], stride, 1)
	}
	return c
}
