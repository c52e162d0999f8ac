//go:build amd64 && !purego

package simd

//go:noescape
func wino43In8(d *[36]*float32, u *float32, stride int, n int)

//go:noescape
func wino43In16(d *[36]*float32, u *float32, stride int, n int)

//go:noescape
func wino43Out8(m *float32, stride int, y *[16]*float32, n int)

//go:noescape
func wino43Out16(m *float32, stride int, y *[16]*float32, n int)

//go:noescape
func wino43OutAdj8(y *[16]*float32, dm *float32, stride int, n int)

//go:noescape
func wino43OutAdj16(y *[16]*float32, dm *float32, stride int, n int)

func wino43InputAsm(d *[36][]float32, u []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [36]*float32
	firsts(p[:], d[:], n)
	_ = u[35*stride+n*8-1]
	w := wide(n)
	if w > 0 {
		wino43In16(&p, &u[0], stride, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino43In8(&p, &u[16*w], stride, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], d[:], c-8)
		_ = u[35*stride+c-1]
		wino43In8(&p, &u[c-8], stride, 1)
	}
	return c
}

func wino43OutputAsm(m []float32, stride int, y *[16][]float32, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = m[35*stride+n*8-1]
	var p [16]*float32
	firsts(p[:], y[:], n)
	w := wide(n)
	if w > 0 {
		wino43Out16(&m[0], stride, &p, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino43Out8(&m[16*w], stride, &p, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], y[:], c-8)
		_ = m[35*stride+c-1]
		wino43Out8(&m[c-8], stride, &p, 1)
	}
	return c
}

func wino43OutputAdjointAsm(y *[16][]float32, dm []float32, stride, c int) int {
	n := c / 8
	if !useAVX2 || n == 0 {
		return 0
	}
	var p [16]*float32
	firsts(p[:], y[:], n)
	_ = dm[35*stride+n*8-1]
	w := wide(n)
	if w > 0 {
		wino43OutAdj16(&p, &dm[0], stride, w)
	}
	if 2*w < n {
		skip(p[:], 16*w)
		wino43OutAdj8(&p, &dm[16*w], stride, n-2*w)
	}
	if c%8 != 0 {
		// The last c%8 channels: 8 from c−8, the first of them written
		// again, to the same bits.
		firstsAt(p[:], y[:], c-8)
		_ = dm[35*stride+c-1]
		wino43OutAdj8(&p, &dm[c-8], stride, 1)
	}
	return c
}
