package encoder

// Near the border of an image part of a kernel's window lies in the zero
// padding, and at the small resolutions of the deep layers most of it does
// (at 32 px, about 28 % of the encoder's multiply-adds and a third of the
// decoder's). So the output positions of a convolution are grouped into
// tap classes: positions whose windows overlap the image in the same
// rectangle of kernel taps. Each class is one matrix product over only its
// taps, and its im2col rows need no zeros.

// span is a run of output rows (or columns) [o0, o1) whose windows overlap
// the input in the kernel rows (or columns) [k0, k1).
type span struct{ o0, o1, k0, k1 int }

// spans returns the runs of one axis of a convolution.
func spans(in, out, kernel, stride, pad int) []span {
	var s []span
	for o := range out {
		k0 := max(0, pad-o*stride)
		k1 := min(kernel, in+pad-o*stride)
		k1 = max(k0, k1)
		if n := len(s); n > 0 && s[n-1].k0 == k0 && s[n-1].k1 == k1 {
			s[n-1].o1 = o + 1
			continue
		}
		s = append(s, span{o, o + 1, k0, k1})
	}
	return s
}

// tapClass is a rectangle of output positions (in every image of the batch)
// whose windows overlap the input in the taps [ky0, ky1) × [kx0, kx1).
type tapClass struct {
	y, x span
	// whole tells whether the class is every output position, so that its
	// rows are the output's rows in order.
	whole bool
}

// classes returns the tap classes of g, row-major over the output.
func (g convGeom) classes() []tapClass {
	ys := spans(g.InH, g.OutH(), g.Kernel, g.Stride, g.Pad)
	xs := spans(g.InW, g.OutW(), g.Kernel, g.Stride, g.Pad)
	var cs []tapClass
	for _, y := range ys {
		for _, x := range xs {
			cs = append(cs, tapClass{y: y, x: x, whole: len(ys) == 1 && len(xs) == 1})
		}
	}
	return cs
}

// positions is the number of output positions of c in one image.
func (c tapClass) positions() int { return (c.y.o1 - c.y.o0) * (c.x.o1 - c.x.o0) }

// k is the length of an im2col row of c: its taps times inC.
func (c tapClass) k(inC int) int { return (c.y.k1 - c.y.k0) * (c.x.k1 - c.x.k0) * inC }

// fullWidth tells whether c uses every column of the kernel, so that its
// weights are a block of consecutive columns of the weight matrix.
func (c tapClass) fullWidth(kernel int) bool { return c.x.k0 == 0 && c.x.k1 == kernel }

// row returns the output row (of the whole output) of the i-th position of
// c in image b.
func (c tapClass) row(g convGeom, b, i int) int {
	w := c.x.o1 - c.x.o0
	oy, ox := c.y.o0+i/w, c.x.o0+i%w
	return (b*g.OutH()+oy)*g.OutW() + ox
}

// classCols writes the im2col rows of class c for the images [b0, b1):
// for each position, the input under the class's taps, by kernel row,
// kernel column and channel. The rows of image first start cols.
func classCols[T float](g convGeom, c tapClass, x, cols []T, first, b0, b1 int) {
	kc := c.k(g.InC)
	run := (c.x.k1 - c.x.k0) * g.InC // one kernel row of the class
	rowLen := g.InW * g.InC
	per := c.positions()
	for b := b0; b < b1; b++ {
		img := x[b*g.InH*rowLen : (b+1)*g.InH*rowLen]
		r := (b - first) * per
		for oy := c.y.o0; oy < c.y.o1; oy++ {
			for ox := c.x.o0; ox < c.x.o1; ox++ {
				dst := cols[r*kc : (r+1)*kc]
				ix := (ox*g.Stride - g.Pad + c.x.k0) * g.InC
				for ky := c.y.k0; ky < c.y.k1; ky++ {
					iy := oy*g.Stride - g.Pad + ky
					copyRun(dst[(ky-c.y.k0)*run:(ky-c.y.k0+1)*run], img[iy*rowLen+ix:iy*rowLen+ix+run])
				}
				r++
			}
		}
	}
}

// classColsRows writes the rows [r0, r1) of the im2col matrix of class c
// (rows by image, then by position in the class) into cols: classCols for
// any range of rows, so that a product can be cut into blocks of rows.
func classColsRows[T float](g convGeom, c tapClass, x, cols []T, r0, r1 int) {
	kc := c.k(g.InC)
	run := (c.x.k1 - c.x.k0) * g.InC
	rowLen := g.InW * g.InC
	imgLen := g.InH * rowLen
	per := c.positions()
	width := c.x.o1 - c.x.o0
	// The position of row r0, then step by step.
	b, i := r0/per, r0%per
	oy, ox := c.y.o0+i/width, c.x.o0+i%width
	for r := r0; r < r1; r++ {
		img := x[b*imgLen : (b+1)*imgLen]
		dst := cols[(r-r0)*kc : (r-r0+1)*kc]
		at := (oy*g.Stride-g.Pad+c.y.k0)*rowLen + (ox*g.Stride-g.Pad+c.x.k0)*g.InC
		for off := 0; off < kc; off += run {
			copyRun(dst[off:off+run], img[at:at+run])
			at += rowLen
		}
		if ox++; ox == c.x.o1 {
			ox = c.x.o0
			if oy++; oy == c.y.o1 {
				oy = c.y.o0
				b++
			}
		}
	}
}

// copyRun copies src to dst, of the same length. The first layer's runs
// (kernel columns × 3 channels) are copied as arrays: a call of memmove per
// run of 9 or 12 values would cost more than the copy.
func copyRun[T float](dst, src []T) {
	switch len(dst) {
	case 12:
		*(*[12]T)(dst) = *(*[12]T)(src)
	case 9:
		*(*[9]T)(dst) = *(*[9]T)(src)
	default:
		copy(dst, src)
	}
}

// classColsAdjoint adds the im2col rows of class c for the images [b0, b1)
// (those of image first start dcols) back into dx at the input positions
// they were read from. It mirrors
// classCols loop for loop: one walk shared through a callback per run
// made training steps 5–10 % slower (the forward copy stops being inline).
func classColsAdjoint[T float](g convGeom, c tapClass, dcols, dx []T, first, b0, b1 int, add func(dst, src []T)) {
	kc := c.k(g.InC)
	run := (c.x.k1 - c.x.k0) * g.InC
	rowLen := g.InW * g.InC
	per := c.positions()
	for b := b0; b < b1; b++ {
		img := dx[b*g.InH*rowLen : (b+1)*g.InH*rowLen]
		r := (b - first) * per
		for oy := c.y.o0; oy < c.y.o1; oy++ {
			for ox := c.x.o0; ox < c.x.o1; ox++ {
				src := dcols[r*kc : (r+1)*kc]
				ix := (ox*g.Stride - g.Pad + c.x.k0) * g.InC
				for ky := c.y.k0; ky < c.y.k1; ky++ {
					iy := oy*g.Stride - g.Pad + ky
					add(img[iy*rowLen+ix:iy*rowLen+ix+run], src[(ky-c.y.k0)*run:(ky-c.y.k0+1)*run])
				}
				r++
			}
		}
	}
}

// classWeights returns the weights of class c as a matrix of outC rows of
// c.k(inC) values and its row stride: a view of w when c uses whole kernel
// rows, else a copy into buf.
func classWeights[T float](g convGeom, c tapClass, w, buf []T) ([]T, int) {
	k := g.K()
	span := g.Kernel * g.InC
	if c.fullWidth(g.Kernel) {
		return w[c.y.k0*span:], k
	}
	kc := c.k(g.InC)
	run := (c.x.k1 - c.x.k0) * g.InC
	for co := range g.OutC {
		row := w[co*k : (co+1)*k]
		dst := buf[co*kc : (co+1)*kc]
		for ky := c.y.k0; ky < c.y.k1; ky++ {
			copy(dst[(ky-c.y.k0)*run:(ky-c.y.k0+1)*run], row[ky*span+c.x.k0*g.InC:ky*span+c.x.k0*g.InC+run])
		}
	}
	return buf, kc
}

// classTapRows returns the ranges of columns of the weight matrix (rows of
// its transpose) that class c uses, one per kernel row of the class.
func classTapRows(g convGeom, c tapClass) [][2]int {
	span := g.Kernel * g.InC
	if c.fullWidth(g.Kernel) {
		return [][2]int{{c.y.k0 * span, c.y.k1 * span}}
	}
	runs := make([][2]int, 0, c.y.k1-c.y.k0)
	for ky := c.y.k0; ky < c.y.k1; ky++ {
		runs = append(runs, [2]int{ky*span + c.x.k0*g.InC, ky*span + c.x.k1*g.InC})
	}
	return runs
}

// addClassWeights adds the class weight gradient dwc (outC rows of
// c.k(inC)) into the full weight gradient dw.
func addClassWeights[T float](g convGeom, c tapClass, dwc, dw []T, add func(dst, src []T)) {
	k := g.K()
	span := g.Kernel * g.InC
	kc := c.k(g.InC)
	run := (c.x.k1 - c.x.k0) * g.InC
	for co := range g.OutC {
		row := dw[co*k : (co+1)*k]
		src := dwc[co*kc : (co+1)*kc]
		for ky := c.y.k0; ky < c.y.k1; ky++ {
			add(row[ky*span+c.x.k0*g.InC:ky*span+c.x.k0*g.InC+run], src[(ky-c.y.k0)*run:(ky-c.y.k0+1)*run])
		}
	}
}

// gatherRows copies the rows (of n values) of class c's positions in the
// images [b0, b1) from full into rows, in class order; scatterRows does the
// opposite, from rows whose first row is of image first.
func gatherRows[T float](g convGeom, c tapClass, full, rows []T, n, b0, b1 int) {
	per := c.positions()
	for b := b0; b < b1; b++ {
		for i := range per {
			r := c.row(g, b, i)
			copy(rows[(b*per+i)*n:(b*per+i+1)*n], full[r*n:(r+1)*n])
		}
	}
}

// gatherRowsRange copies the rows (of n values) of class c's positions
// [r0, r1) (by image, then by position in the class) from full into rows.
func gatherRowsRange[T float](g convGeom, c tapClass, full, rows []T, n, r0, r1 int) {
	per := c.positions()
	for r := r0; r < r1; r++ {
		o := c.row(g, r/per, r%per)
		copy(rows[(r-r0)*n:(r-r0+1)*n], full[o*n:(o+1)*n])
	}
}

// scatterRowsRange copies the rows [r0, r1) of class c (by image, then by
// position in the class), which rows holds from its start, to their places
// in full.
func scatterRowsRange[T float](g convGeom, c tapClass, rows, full []T, n, r0, r1 int) {
	per := c.positions()
	for r := r0; r < r1; r++ {
		o := c.row(g, r/per, r%per)
		copy(full[o*n:(o+1)*n], rows[(r-r0)*n:(r-r0+1)*n])
	}
}

func scatterRows[T float](g convGeom, c tapClass, rows, full []T, n, first, b0, b1 int) {
	per := c.positions()
	for b := b0; b < b1; b++ {
		for i := range per {
			r := c.row(g, b, i)
			src := ((b-first)*per + i) * n
			copy(full[r*n:(r+1)*n], rows[src:src+n])
		}
	}
}

// adder returns the function that adds src to dst element by element: a
// SIMD one for float32.
func adder[T float]() func(dst, src []T) {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return any(vekAdd).(func(dst, src []T))
	}
	return addTo[T]
}
