//go:build amd64 && !purego

package simd

//go:noescape
func winoIn8(d *[16]*float32, u *float32, stride int, n int)

//go:noescape
func winoIn16(d *[16]*float32, u *float32, stride int, n int)

//go:noescape
func winoOut8(m *float32, stride int, y *[4]*float32, n int)

//go:noescape
func winoOut16(m *float32, stride int, y *[4]*float32, n int)

//go:noescape
func winoOutAdj8(y *[4]*float32, dm *float32, stride int, n int)

//go:noescape
func winoOutAdj16(y *[4]*float32, dm *float32, stride int, n int)

func winoInputAsm(d *[16][]float32, u []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [16]*float32
	firsts(p[:], d[:], n)
	_ = u[15*stride+n*8-1]
	w := wide(n)
	if w > 0 {
		winoIn16(&p, &u[0], stride, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		winoIn8(&p, &u[16*w], stride, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], d[:], c-8)
		_ = u[15*stride+c-1]
		winoIn8(&p, &u[c-8], stride, 1)
	}
	return c
}

func winoOutputAsm(m []float32, stride int, y *[4][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = m[15*stride+n*8-1]
	var p [4]*float32
	firsts(p[:], y[:], n)
	w := wide(n)
	if w > 0 {
		winoOut16(&m[0], stride, &p, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		winoOut8(&m[16*w], stride, &p, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], y[:], c-8)
		_ = m[15*stride+c-1]
		winoOut8(&m[c-8], stride, &p, 1)
	}
	return c
}

func winoOutputAdjointAsm(y *[4][]float32, dm []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [4]*float32
	firsts(p[:], y[:], n)
	_ = dm[15*stride+n*8-1]
	w := wide(n)
	if w > 0 {
		winoOutAdj16(&p, &dm[0], stride, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		winoOutAdj8(&p, &dm[16*w], stride, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], y[:], c-8)
		_ = dm[15*stride+c-1]
		winoOutAdj8(&p, &dm[c-8], stride, 1)
	}
	return c
}
