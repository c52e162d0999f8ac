package encoder

import (
	"simsearch/encoder/internal/gemm"
	"simsearch/encoder/internal/simd"
)

// The encoder's convolutions (kernel 4, stride 2, padding 1) are, after a
// space-to-depth rearrangement, 2×2 convolutions of stride 1 without
// padding: with x′ the input padded by one pixel, the phase (py, px) of
// x′ (its pixels 2i+py, 2j+px) convolved with the kernel taps (2j₁+py,
// 2j₂+px), summed over the four phases. Each such 2×2 convolution runs as
// Winograd's F(2×2, 2×2) on images whose outputs are a whole number of 2×2
// tiles of at least winograd22MinRes pixels a side: 9 multiply-adds per 2×2
// outputs and channel pair instead of 16, the four phases being the input
// channels of one product per element ξ of the 3×3 transform. The
// transforms have only ±1 coefficients:
//
//	Bᵀ = [1 -1 0; 0 1 0; 0 -1 1]
//	G  = [1 0; 1 1; 0 1]
//	Aᵀ = [1 1 0; 0 1 1]
//
// The input gradient is the adjoint of the forward pass in the same
// domain: the output gradient transformed by Aᵀ's adjoint, multiplied by the
// transformed weights' transpose, and B dV Bᵀ added back into the input at
// the tile's pixels; tiles of one image overlap, so each image is one
// goroutine's. The weight gradient sums, per ξ, the transformed input
// tiles times the transformed output gradient, then takes G's adjoint.

// winograd22MinRes is the smallest input side at which the transform saves
// work: at 4×4 px the tap classes skip the padding, as much as it saves.
const winograd22MinRes = 8

// winograd22MinChannels is the fewest input channels worth transforming:
// the first layer's three channels make products too thin to gain.
const winograd22MinChannels = 8

// winograd22Fits tells whether g is a convolution the transform computes.
func winograd22Fits(g convGeom) bool {
	return useWinograd && gemm.Backend == "go" &&
		g.Kernel == 4 && g.Stride == 2 && g.Pad == 1 &&
		g.InH%4 == 0 && g.InW%4 == 0 && g.InH >= winograd22MinRes && g.InW >= winograd22MinRes &&
		g.InC >= winograd22MinChannels
}

// w22Transform writes G g Gᵀ of the kernels of the output channels [lo, hi)
// of w (outC rows of (ky, kx, inC)) into dst: 9 matrices of 4·inC × outC
// (ξ, then phase and input channel, then output channel).
func w22Transform[T float](inC, outC, lo, hi int, w, dst []T) {
	k16 := 16 * inC
	rows := 4 * inC
	size := rows * outC
	for co := lo; co < hi; co++ {
		row := w[co*k16 : (co+1)*k16]
		for ph := range 4 {
			py, px := ph/2, ph%2
			for ci := range inC {
				var g [2][2]T
				for j1 := range 2 {
					for j2 := range 2 {
						g[j1][j2] = row[((2*j1+py)*4+2*j2+px)*inC+ci]
					}
				}
				at := (ph*inC+ci)*outC + co
				for a := range 3 {
					var r0, r1 T
					switch a {
					case 0:
						r0, r1 = g[0][0], g[0][1]
					case 1:
						r0, r1 = g[0][0]+g[1][0], g[0][1]+g[1][1]
					case 2:
						r0, r1 = g[1][0], g[1][1]
					}
					dst[(a*3+0)*size+at] = r0
					dst[(a*3+1)*size+at] = r0 + r1
					dst[(a*3+2)*size+at] = r1
				}
			}
		}
	}
}

// w22Adjoint writes Gᵀ dWt G, the adjoint of w22Transform, of the 9
// gradients dwt into the rows [lo, hi) of dw.
func w22Adjoint[T float](inC, outC, lo, hi int, dwt, dw []T) {
	k16 := 16 * inC
	rows := 4 * inC
	size := rows * outC
	for co := lo; co < hi; co++ {
		row := dw[co*k16 : (co+1)*k16]
		for ph := range 4 {
			py, px := ph/2, ph%2
			for ci := range inC {
				at := (ph*inC+ci)*outC + co
				var u [3][3]T
				for xi := range 9 {
					u[xi/3][xi%3] = dwt[xi*size+at]
				}
				// Columns: t[a][j2] = Σ_b u[a][b] G[b][j2].
				var t [3][2]T
				for a := range 3 {
					t[a][0] = u[a][0] + u[a][1]
					t[a][1] = u[a][1] + u[a][2]
				}
				for j2 := range 2 {
					row[((0+py)*4+2*j2+px)*inC+ci] = t[0][j2] + t[1][j2]
					row[((2+py)*4+2*j2+px)*inC+ci] = t[1][j2] + t[2][j2]
				}
			}
		}
	}
}

// tile22 locates the 2×2 output tile t of a batch of oh × ow outputs.
func tile22(oh, ow, t int) (b, ty, tx int) {
	tw, th := ow/2, oh/2
	b, r := t/(th*tw), t%(th*tw)
	return b, r / tw, r % tw
}

// tile22Input returns the 3×3 runs of c values of phase ph of tile t's
// input in x (batch, h, w, c), row by row; runs in the padding are zero.
func tile22Input[T float](x []T, h, w, c, t, ph int, zero []T) [9][]T {
	b, ty, tx := tile22(h/2, w/2, t)
	py, px := ph/2, ph%2
	var d [9][]T
	for r := range 3 {
		iy := 4*ty + 2*r + py - 1
		for s := range 3 {
			ix := 4*tx + 2*s + px - 1
			if iy < 0 || iy >= h || ix < 0 || ix >= w {
				d[r*3+s] = zero[:c]
			} else {
				at := ((b*h+iy)*w + ix) * c
				d[r*3+s] = x[at : at+c : at+c]
			}
		}
	}
	return d
}

// w22Input writes Bᵀ d B of the tiles [t0, t1) of x into u: 9 matrices of
// (t1-t0) rows of 4c values (phase, then channel), ξ at ξ·stride.
func w22Input[T float](x []T, h, w, c, t0, t1 int, u []T, stride int, zero []T) {
	for t := t0; t < t1; t++ {
		for ph := range 4 {
			d := tile22Input(x, h, w, c, t, ph, zero)
			base := ((t-t0)*4 + ph) * c
			done := 0
			if d32, ok := any(&d).(*[9][]float32); ok && winoAsm {
				done = simd.Wino22Input(d32, any(u[base:]).([]float32), stride, c)
			}
			for ch := done; ch < c; ch++ {
				var v [3][3]T
				for q := range 3 {
					d0, d1, d2 := d[q][ch], d[3+q][ch], d[6+q][ch]
					v[0][q] = d0 - d1
					v[1][q] = d1
					v[2][q] = d2 - d1
				}
				at := base + ch
				for a := range 3 {
					d0, d1, d2 := v[a][0], v[a][1], v[a][2]
					u[(a*3+0)*stride+at] = d0 - d1
					u[(a*3+1)*stride+at] = d1
					u[(a*3+2)*stride+at] = d2 - d1
				}
			}
		}
	}
}

// w22InputAdjoint adds B dV Bᵀ, the adjoint of w22Input, of the tiles
// [t0, t1) (dv laid out as w22Input lays out u) into dx at the pixels they
// were read from; pixels in the padding go to sink.
func w22InputAdjoint[T float](dv []T, stride, h, w, c, t0, t1 int, dx, sink []T) {
	for t := t0; t < t1; t++ {
		for ph := range 4 {
			d := tile22Input(dx, h, w, c, t, ph, sink)
			base := ((t-t0)*4 + ph) * c
			done := 0
			if d32, ok := any(&d).(*[9][]float32); ok && winoAsm {
				done = simd.Wino22InputAdjoint(any(dv[base:]).([]float32), stride, d32, c)
			}
			for ch := done; ch < c; ch++ {
				at := base + ch
				// Columns first: the adjoint of (d0−d1, d1, d2−d1) is
				// (v0, (v1−v0)−v2, v2).
				var s [3][3]T
				for a := range 3 {
					v0, v1, v2 := dv[(a*3+0)*stride+at], dv[(a*3+1)*stride+at], dv[(a*3+2)*stride+at]
					s[a] = [3]T{v0, v1 - v0 - v2, v2}
				}
				for q := range 3 {
					v0, v1, v2 := s[0][q], s[1][q], s[2][q]
					d[q][ch] += v0
					d[3+q][ch] += v1 - v0 - v2
					d[6+q][ch] += v2
				}
			}
		}
	}
}

// w22Output writes Aᵀ m A of the tiles [t0, t1) (m: 9 matrices of rows of
// c values) to their 2×2 outputs in y (batch, oh, ow, c).
func w22Output[T float](m []T, stride, oh, ow, c, t0, t1 int, y []T) {
	for t := t0; t < t1; t++ {
		o := tileOutputs(y, oh, ow, c, t)
		base := (t - t0) * c
		done := 0
		if o32, ok := any(&o).(*[4][]float32); ok && winoAsm {
			done = simd.Wino22Output(any(m[base:]).([]float32), stride, o32, c)
		}
		for ch := done; ch < c; ch++ {
			at := base + ch
			var s [2][3]T
			for q := range 3 {
				m0, m1, m2 := m[(0*3+q)*stride+at], m[(1*3+q)*stride+at], m[(2*3+q)*stride+at]
				s[0][q] = m0 + m1
				s[1][q] = m1 + m2
			}
			o[0][ch] = s[0][0] + s[0][1]
			o[1][ch] = s[0][1] + s[0][2]
			o[2][ch] = s[1][0] + s[1][1]
			o[3][ch] = s[1][1] + s[1][2]
		}
	}
}

// w22OutputAdjoint writes A dy Aᵀ of the tiles [t0, t1) of dy into dm,
// laid out as w22Output reads m.
func w22OutputAdjoint[T float](dy []T, oh, ow, c, t0, t1 int, dm []T, stride int) {
	for t := t0; t < t1; t++ {
		o := tileOutputs(dy, oh, ow, c, t)
		base := (t - t0) * c
		done := 0
		if o32, ok := any(&o).(*[4][]float32); ok && winoAsm {
			done = simd.Wino22OutputAdjoint(o32, any(dm[base:]).([]float32), stride, c)
		}
		for ch := done; ch < c; ch++ {
			at := base + ch
			var s [2][3]T
			for r := range 2 {
				p, q := o[2*r][ch], o[2*r+1][ch]
				s[r] = [3]T{p, p + q, q}
			}
			for q := range 3 {
				r0, r1 := s[0][q], s[1][q]
				dm[(0*3+q)*stride+at] = r0
				dm[(1*3+q)*stride+at] = r0 + r1
				dm[(2*3+q)*stride+at] = r1
			}
		}
	}
}

// w22Pack transforms w and packs the 9 matrices into store: as B of the
// forward products (4·inC × outC) and, if back is set, transposed, of the
// input gradient's (outC × 4·inC).
func w22Pack[T float](ws *workspace, g convGeom, w []T, store *[2]any, back bool) []*gemm.PackedB[T] {
	rows := 4 * g.InC
	size := rows * g.OutC
	raw := scratch[T](ws, slotWeights, 9*size)
	parallel(g.OutC, 16, func(lo, hi int) { w22Transform(g.InC, g.OutC, lo, hi, w, raw) })
	fwd := winoPacked[T](&store[0], 9)
	jobs := 9
	var bk []gemm.PackedB[T]
	if back {
		bk = winoPacked[T](&store[1], 9)
		jobs = 18
	}
	parallel(jobs, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := i % 9
			if i < 9 {
				gemm.PackB(&fwd[xi], false, rows, g.OutC, raw[xi*size:(xi+1)*size], g.OutC)
			} else {
				gemm.PackB(&bk[xi], true, g.OutC, rows, raw[xi*size:(xi+1)*size], g.OutC)
			}
		}
	})
	return pointers(fwd)
}

// w22Cached returns the forward packings of an inference graph's weights,
// which do not change, from its cache, making them the first time.
func w22Cached[T float](op *convOp, w []T) []*gemm.PackedB[T] {
	g := op.geom
	rows := 4 * g.InC
	size := rows * g.OutC
	var raw []T
	p := make([]*gemm.PackedB[T], 9)
	for xi := range p {
		p[xi] = cachedPacking(op.packs, packKey{op.name, -2 - xi}, func(pb *gemm.PackedB[T]) {
			if raw == nil {
				raw = make([]T, 9*size)
				parallel(g.OutC, 16, func(lo, hi int) { w22Transform(g.InC, g.OutC, lo, hi, w, raw) })
			}
			gemm.PackB(pb, false, rows, g.OutC, raw[xi*size:(xi+1)*size], g.OutC)
		})
	}
	return p
}

// w22Forward is convForward for a layer winograd22Fits, without the bias.
// In training it also packs the weights for the input gradient.
func w22Forward[T float](op *convOp, x, w, y []T) {
	g := op.geom
	var b []*gemm.PackedB[T]
	if op.packs != nil {
		b = w22Cached(op, w)
	} else {
		b = w22Pack(op.ws, g, w, &op.wino.packs22, op.inputGrad)
	}
	oh, ow := g.OutH(), g.OutW()
	winoProducts(op.ws, winoTiles(g.Batch, oh, ow), 1, 4*g.InC, g.OutC, b,
		func(t0, t1 int, u []T, stride int, zero []T) {
			w22Input(x, g.InH, g.InW, g.InC, t0, t1, u, stride, zero)
		},
		func(t0, t1 int, m []T, stride int, _ []T) { w22Output(m, stride, oh, ow, g.OutC, t0, t1, y) })
}

// w22InputGrad is convInputGrad for a layer winograd22Fits, with the
// weights its forward pass packed. The tiles of an image overlap in dx, so
// the blocks are of whole images.
func w22InputGrad[T float](op *convOp, dy, dx []T) {
	g := op.geom
	oh, ow := g.OutH(), g.OutW()
	clear(dx)
	winoProducts(op.ws, winoTiles(g.Batch, oh, ow), (oh/2)*(ow/2), g.OutC, 4*g.InC, pointers(op.wino.packs22[1].([]gemm.PackedB[T])),
		func(t0, t1 int, m []T, stride int, _ []T) { w22OutputAdjoint(dy, oh, ow, g.OutC, t0, t1, m, stride) },
		func(t0, t1 int, dv []T, stride int, sink []T) {
			w22InputAdjoint(dv, stride, g.InH, g.InW, g.InC, t0, t1, dx, sink)
		})
}

// w22WeightGrad is convWeightGrad for a layer winograd22Fits.
func w22WeightGrad[T float](op *convOp, x, dy, dw []T) {
	g := op.geom
	oh, ow := g.OutH(), g.OutW()
	sums := winoSums(op.ws, 9, winoTiles(g.Batch, oh, ow), 4*g.InC, g.OutC,
		func(t0, t1 int, u []T, stride int, zero []T) {
			w22Input(x, g.InH, g.InW, g.InC, t0, t1, u, stride, zero)
		},
		func(t0, t1 int, m []T, stride int, _ []T) { w22OutputAdjoint(dy, oh, ow, g.OutC, t0, t1, m, stride) })
	parallel(g.OutC, 8, func(lo, hi int) { w22Adjoint(g.InC, g.OutC, lo, hi, sums, dw) })
}
