package encoder

import (
	"simsearch/encoder/internal/gemm"
)

// The stem is the first layer, the strided 4×4 convolution of the image's
// few channels. Its im2col rows are short (48 values for RGB), so the tap
// classes spent most of its time making them, scattering the classes'
// outputs and adding the bias, at a fifth of the kernel's rate; Winograd's
// transform would make its products thinner still.
//
// Instead each image is laid out once so that every output's window is 16·C
// consecutive values, the windows of neighbouring outputs overlapping, and
// one product per image reads them in place (gemm reads rows that
// overlap). The entry (u, v) of the layout, for u < oh and v ≤ ow, holds
// for each kernel row ky and the two columns 2v-1+dx of the image the C
// channels of pixel (2u+ky-1, 2v-1+dx), zeros where that is padding:
// 8·C values. The window of output (oy, ox) is the entries (oy, ox) and
// (oy, ox+1), which follow each other: kernel columns kx = 2·b + dx for
// b = 0, 1. A row of the layout has ow+1 entries, so each row of the
// output is ow+1 rows of the product, of which the last is discarded (an
// eighth more work at 8 outputs a side, a 32nd at 32).
//
// The sums run over the window in the layout's order, one image at a time,
// so an image's output does not depend on its batch.

// useStem lets tests compare the stem's layout with the tap classes.
var useStem = true

// stemMaxChannels is the most input channels the stem's layout takes: RGB
// and grey images.
const stemMaxChannels = 4

// stemMinOut is the fewest outputs a side for which the discarded column
// of the layout is worth its cost.
const stemMinOut = 8

// stemFits tells whether a layer of geometry g runs as the stem: the
// layout is for the forward pass and the weight gradient, so the layer's
// input must be data, with no gradient.
func stemFits(g convGeom, inputGrad bool) bool {
	return useStem && gemm.Backend == "go" && !inputGrad &&
		g.Kernel == 4 && g.Stride == 2 && g.Pad == 1 &&
		g.InH%2 == 0 && g.InW%2 == 0 && g.InC <= stemMaxChannels &&
		g.OutH() >= stemMinOut && g.OutW() >= stemMinOut
}

// stemShape gives the sizes of the layout of one image of g: its product's
// rows (m, including the discarded column), the values of an entry (e),
// the length of a window (k = 2·e) and of the whole layout, which has one
// more entry, read by the discarded last row.
func stemShape(g convGeom) (m, e, k, size int) {
	m = g.OutH() * (g.OutW() + 1)
	e = 8 * g.InC
	return m, e, 2 * e, (m + 1) * e
}

// stemColumn returns the column of the weight matrix (ky, kx, channel) of
// the i-th value of a window of the layout.
func stemColumn(inC, i int) int {
	b, r := i/(8*inC), i%(8*inC)
	ky, r := r/(2*inC), r%(2*inC)
	dx, c := r/inC, r%inC
	return (ky*4+2*b+dx)*inC + c
}

// stemLayout writes the layout of image x (h, w, c) of g into dst.
func stemLayout[T float](g convGeom, x, dst []T) {
	c, oh, wide := g.InC, g.OutH(), g.OutW()+1
	_, e, _, size := stemShape(g)
	dst = dst[:size]
	rowLen := g.InW * c
	pair := 2 * c
	for u := range oh {
		for ky := range 4 {
			iy := 2*u + ky - 1
			base := u*wide*e + ky*pair
			if iy < 0 || iy >= g.InH {
				for v := range wide {
					clear(dst[base+v*e : base+v*e+pair])
				}
				continue
			}
			src := x[iy*rowLen : (iy+1)*rowLen]
			// Entry 0 starts in the padding and the last ends in it.
			clear(dst[base : base+c])
			copy(dst[base+c:base+pair], src[:c])
			stemPairs(dst[base:], src, c, e, wide-1)
			last := base + (wide-1)*e
			copy(dst[last:last+c], src[rowLen-c:])
			clear(dst[last+c : last+pair])
		}
	}
	clear(dst[oh*wide*e:])
}

// stemPairs copies the pixels (2v-1, 2v) of the image row src, of c
// channels, into dst at v·e for 0 < v < end: for float32 images of 1 or 3
// channels without a call per pair.
func stemPairs[T float](dst, src []T, c, e, end int) {
	if d, ok := any(dst).([]float32); ok && (c == 1 || c == 3) {
		stemPairs32(d, any(src).([]float32), c, e, end)
		return
	}
	for v := 1; v < end; v++ {
		copy(dst[v*e:v*e+2*c], src[(2*v-1)*c:(2*v+1)*c])
	}
}

func stemPairs32(dst, src []float32, c, e, end int) {
	if c == 3 {
		for v := 1; v < end; v++ {
			// Value by value: an array copy between slices calls memmove,
			// and one through a local stalls on the stack.
			s := src[(2*v-1)*3 : (2*v+1)*3 : (2*v+1)*3]
			d := dst[v*e : v*e+6 : v*e+6]
			d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
		}
		return
	}
	for v := 1; v < end; v++ {
		s := src[2*v-1 : 2*v+1 : 2*v+1]
		d := dst[v*e : v*e+2 : v*e+2]
		d[0], d[1] = s[0], s[1]
	}
}

// stemImages calls fn for each image b of the batch x of g, on as many
// goroutines as there are cores, with the image's layout made and a
// scratch of m·outC values (the product's rows) of the goroutine's own.
func stemImages[T float](op *convOp, x []T, fn func(b int, layout, rows []T)) {
	g := op.geom
	m, _, _, size := stemShape(g)
	workers := max(1, min(gemm.Workers(), g.Batch))
	per := size + m*g.OutC
	buf := scratch[T](op.ws, slotCols, workers*per)
	in := g.InSize() / g.Batch
	parallelBlocks(g.Batch, workers, func(wk, b int) {
		layout, rows := buf[wk*per:wk*per+size], buf[wk*per+size:(wk+1)*per]
		stemLayout(g, x[b*in:(b+1)*in], layout)
		fn(b, layout, rows)
	})
}

// stemForward is the forward pass of the stem, bias and ReLU included.
func stemForward[T float](op *convOp, x, w, bias, y []T) {
	g := op.geom
	m, e, k, _ := stemShape(g)
	oh, ow, wide, outC := g.OutH(), g.OutW(), g.OutW()+1, g.OutC
	pack := func(p *gemm.PackedB[T]) {
		wl := scratch[T](op.ws, slotWeights, outC*k)
		for co := range outC {
			for i := range k {
				wl[co*k+i] = w[co*g.K()+stemColumn(g.InC, i)]
			}
		}
		gemm.PackB(p, true, k, outC, wl, k)
	}
	var packed *gemm.PackedB[T]
	if op.packs != nil {
		packed = cachedPacking(op.packs, packKey{op.name + ".stem", -1}, pack)
	} else {
		packed = packedWhole[T](op)
		op.prepare(prepForward, func() { pack(packed) })
	}
	out := g.OutSize() / g.Batch
	stemImages(op, x, func(b int, layout, rows []T) {
		gemm.GemmPackedSerial(false, m, outC, k, 1, layout, e, packed, 0, rows, outC)
		img := y[b*out : (b+1)*out]
		for oy := range oh {
			biasActivateFrom(img[oy*ow*outC:(oy+1)*ow*outC], rows[oy*wide*outC:oy*wide*outC+ow*outC], bias, op.relu)
		}
	})
}

// stemWeightGrad is the weight gradient of the stem: for each image the
// product of its layout's windows and its output gradient, then the sum of
// the images' in order, so that the sums do not depend on the number of
// goroutines. The layouts are made again rather than kept from the forward
// pass: made, they stay in the cache; kept, a batch's would go to memory
// and back (26 MB at 64 px).
func stemWeightGrad[T float](op *convOp, x, dy, dw []T) {
	g := op.geom
	m, e, k, _ := stemShape(g)
	oh, ow, wide, outC := g.OutH(), g.OutW(), g.OutW()+1, g.OutC
	parts := scratch[T](op.ws, slotGrad, g.Batch*k*outC)
	out := g.OutSize() / g.Batch
	stemImages(op, x, func(b int, layout, wideGrad []T) {
		img := dy[b*out : (b+1)*out]
		for oy := range oh {
			row := wideGrad[oy*wide*outC : (oy+1)*wide*outC]
			copy(row, img[oy*ow*outC:(oy+1)*ow*outC])
			clear(row[ow*outC:]) // the discarded column
		}
		// Windows by output channels: 48 by 32 for RGB, whole tiles of
		// both kernels' (6×16, 12×32).
		gemm.GemmSerial(true, false, k, outC, m, 1, layout, e, wideGrad, outC, 0, parts[b*k*outC:(b+1)*k*outC], outC)
	})
	parallel(k, 8, func(lo, hi int) {
		sum := make([]T, outC)
		for i := lo; i < hi; i++ {
			copy(sum, parts[i*outC:(i+1)*outC])
			for b := 1; b < g.Batch; b++ {
				addTo(sum, parts[(b*k+i)*outC:(b*k+i+1)*outC])
			}
			col := stemColumn(g.InC, i)
			for co, v := range sum {
				dw[co*g.K()+col] = v
			}
		}
	})
}
