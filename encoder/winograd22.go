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
// Winograd's F(m×m, 2×2) on images whose outputs are a whole number of m×m
// tiles, the four phases being the input channels of one product per
// element ξ of the n×n transform (n = m+1):
//
//   - F(2×2, 2×2) at outputs of at least winograd22MinRes/2 pixels a side:
//     9 multiply-adds per 2×2 outputs and channel pair instead of 16, with
//     transforms of ±1 coefficients only:
//
//     Bᵀ = [1 -1 0; 0 1 0; 0 -1 1]
//     G  = [1 0; 1 1; 0 1]
//     Aᵀ = [1 1 0; 0 1 1]
//
//   - F(4×4, 2×2) where the outputs are multiples of 4 and at least
//     winograd42MinOut a side: 25 multiply-adds per 4×4 outputs instead of
//     F(2×2, 2×2)'s 36 (and 64 directly), with the points 0, ±1, 2 and ∞:
//
//     Bᵀ = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1]
//     G  = [½ 0; -½ -½; -⅙ ⅙; ⅙ ⅓; 0 1]
//     Aᵀ = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 0; 0 1 -1 8 1]
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

// winograd42MinOut is the smallest output side at which F(4×4, 2×2) runs
// instead of F(2×2, 2×2).
const winograd42MinOut = 8

// winograd22Fits tells whether g is a convolution the transform computes.
func winograd22Fits(g convGeom) bool {
	return useWinograd && gemm.Backend == "go" &&
		g.Kernel == 4 && g.Stride == 2 && g.Pad == 1 &&
		g.InH%4 == 0 && g.InW%4 == 0 && g.InH >= winograd22MinRes && g.InW >= winograd22MinRes &&
		g.InC >= winograd22MinChannels
}

// winograd42Fits tells whether a convolution winograd22Fits runs as
// F(4×4, 2×2).
func winograd42Fits(g convGeom) bool {
	oh, ow := g.OutH(), g.OutW()
	return useLargerTiles && oh%4 == 0 && ow%4 == 0 && oh >= winograd42MinOut && ow >= winograd42MinOut
}

// phaseTransform is F(m×m, 2×2) for the four phases of a strided layer:
// the 1-D transforms and their adjoints, each in the order of operations of
// its assembly in package simd.
type phaseTransform[T float] struct {
	n, m int
	bt   func(d, v []T) // v = Bᵀ d, n values
	b    func(v, d []T) // d = B v, the adjoint
	at   func(p, y []T) // y = Aᵀ p, n values to m
	a    func(y, p []T) // p = A y, the adjoint
	g    func(g0, g1 T, t []T)
	gt   func(u []T) (T, T) // Gᵀ u
}

// phaseTransformOf returns the transform of a layer.
func phaseTransformOf[T float](s *winoState) phaseTransform[T] {
	if s.n == 5 {
		return phaseTransform[T]{n: 5, m: 4, bt: w42B[T], b: w42BAdjoint[T], at: w42A[T], a: w42AAdjoint[T], g: w42G[T], gt: w42GAdjoint[T]}
	}
	return phaseTransform[T]{n: 3, m: 2, bt: w22B[T], b: w22BAdjoint[T], at: w22A[T], a: w22AAdjoint[T], g: w22G[T], gt: w22GAdjoint[T]}
}

func w22B[T float](d, v []T) { v[0], v[1], v[2] = d[0]-d[1], d[1], d[2]-d[1] }

// The adjoint of (d0−d1, d1, d2−d1) is (v0, (v1−v0)−v2, v2).
func w22BAdjoint[T float](v, d []T) { d[0], d[1], d[2] = v[0], v[1]-v[0]-v[2], v[2] }

func w22A[T float](p, y []T) { y[0], y[1] = p[0]+p[1], p[1]+p[2] }

func w22AAdjoint[T float](y, p []T) { p[0], p[1], p[2] = y[0], y[0]+y[1], y[1] }

func w22G[T float](g0, g1 T, t []T) { t[0], t[1], t[2] = g0, g0+g1, g1 }

func w22GAdjoint[T float](u []T) (T, T) { return u[0] + u[1], u[1] + u[2] }

func w42B[T float](d, v []T) {
	d31, d32 := d[3]-d[1], d[3]-d[2]
	v[0] = T(2*(d[0]-d[2])) + d31
	v[1] = d32 - T(2*d[1])
	v[2] = d32 + T(2*(d[1]-d[2]))
	v[3] = d31
	v[4] = T(2*(d[1]-d[3])) + (d[4] - d[2])
}

func w42BAdjoint[T float](v, d []T) {
	v2, v4 := T(2*v[2]), T(2*v[4])
	d[0] = T(2 * v[0])
	d[1] = v2 + v4 - T(2*v[1]) - (v[0] + v[3])
	d[2] = -(T(2*v[0]) + v[1] + T(3*v[2]) + v[4])
	d[3] = v[0] + v[1] + v[2] + v[3] - v4
	d[4] = v[4]
}

func w42A[T float](p, y []T) {
	s, q := p[1]+p[2], p[1]-p[2]
	y[0] = p[0] + s + p[3]
	y[1] = q + T(2*p[3])
	y[2] = s + T(4*p[3])
	y[3] = q + T(8*p[3]) + p[4]
}

func w42AAdjoint[T float](y, p []T) {
	e, o := y[0]+y[2], y[1]+y[3]
	p[0] = y[0]
	p[1] = e + o
	p[2] = e - o
	p[3] = y[0] + T(2*y[1]) + T(4*y[2]) + T(8*y[3])
	p[4] = y[3]
}

func w42G[T float](g0, g1 T, t []T) {
	const sixth, third = 1.0 / 6, 1.0 / 3
	t[0] = g0 / 2
	t[1] = -(g0 + g1) / 2
	t[2] = (g1 - g0) * sixth
	t[3] = g0*sixth + g1*third
	t[4] = g1
}

func w42GAdjoint[T float](u []T) (T, T) {
	const sixth, third = 1.0 / 6, 1.0 / 3
	return (u[0]-u[1])/2 + (u[3]-u[2])*sixth, u[2]*sixth - u[1]/2 + u[3]*third + u[4]
}

// w22Transform writes G g Gᵀ of the kernels of the output channels [lo, hi)
// of w (outC rows of (ky, kx, inC)) into dst: n² matrices of 4·inC × outC
// (ξ, then phase and input channel, then output channel).
func w22Transform[T float](p phaseTransform[T], inC, outC, lo, hi int, w, dst []T) {
	n := p.n
	k16 := 16 * inC
	rows := 4 * inC
	size := rows * outC
	var t [5][2]T
	var col, r [5]T
	// Blocks of output channels, which are the matrices' columns: each
	// (phase, input channel) then writes one run of the block to each.
	for block := lo; block < hi; block += weightBlock {
		for ph := range 4 {
			py, px := ph/2, ph%2
			for ci := range inC {
				for co := block; co < min(block+weightBlock, hi); co++ {
					row := w[co*k16 : (co+1)*k16]
					var g [2][2]T
					for j1 := range 2 {
						for j2 := range 2 {
							g[j1][j2] = row[((2*j1+py)*4+2*j2+px)*inC+ci]
						}
					}
					// t = G g, then G tᵀ.
					for j2 := range 2 {
						p.g(g[0][j2], g[1][j2], col[:n])
						for a := range n {
							t[a][j2] = col[a]
						}
					}
					at := (ph*inC+ci)*outC + co
					for a := range n {
						p.g(t[a][0], t[a][1], r[:n])
						for b := range n {
							dst[(a*n+b)*size+at] = r[b]
						}
					}
				}
			}
		}
	}
}

// w22Adjoint writes Gᵀ dWt G, the adjoint of w22Transform, of the n²
// gradients dwt into the rows [lo, hi) of dw.
func w22Adjoint[T float](p phaseTransform[T], inC, outC, lo, hi int, dwt, dw []T) {
	n := p.n
	k16 := 16 * inC
	rows := 4 * inC
	size := rows * outC
	var u [5]T
	var t [2][5]T
	// Blocks of output channels, as in w22Transform: each (phase, input
	// channel) reads one run of the block from each matrix.
	for block := lo; block < hi; block += weightBlock {
		for ph := range 4 {
			py, px := ph/2, ph%2
			for ci := range inC {
				for co := block; co < min(block+weightBlock, hi); co++ {
					row := dw[co*k16 : (co+1)*k16]
					at := (ph*inC+ci)*outC + co
					// Columns: t[j2][a] = Σ_b u[a][b] G[b][j2].
					for a := range n {
						for b := range n {
							u[b] = dwt[(a*n+b)*size+at]
						}
						t[0][a], t[1][a] = p.gt(u[:n])
					}
					for j2 := range 2 {
						g0, g1 := p.gt(t[j2][:n])
						row[((0+py)*4+2*j2+px)*inC+ci] = g0
						row[((2+py)*4+2*j2+px)*inC+ci] = g1
					}
				}
			}
		}
	}
}

// tile22 locates the m×m output tile t of a batch of oh × ow outputs.
func tile22(oh, ow, m, t int) (b, ty, tx int) {
	tw, th := ow/m, oh/m
	b, r := t/(th*tw), t%(th*tw)
	return b, r / tw, r % tw
}

// tile22Input sets d to the n×n runs of c values of phase ph of the tile
// at (ty, tx) of image b of x (batch, h, w, c), row by row; runs in the
// padding are zero's.
func tile22Input[T float](x []T, h, w, c, n, b, ty, tx, ph int, zero []T, d [][]T) {
	m := n - 1
	y0, x0 := 2*m*ty+ph/2-1, 2*m*tx+ph%2-1
	zero = zero[:c]
	for r := range n {
		row := d[r*n : r*n+n]
		iy := y0 + 2*r
		if iy < 0 || iy >= h {
			for s := range row {
				row[s] = zero
			}
			continue
		}
		at := ((b*h+iy)*w + x0) * c
		for s := range row {
			if ix := x0 + 2*s; ix < 0 || ix >= w {
				row[s] = zero
			} else {
				row[s] = x[at : at+c : at+c]
			}
			at += 2 * c
		}
	}
}

// w22Input writes Bᵀ d B of the tiles [t0, t1) of x into u: n² matrices of
// (t1-t0) rows of 4c values (phase, then channel), ξ at ξ·stride.
func w22Input[T float](p phaseTransform[T], x []T, h, w, c, t0, t1 int, u []T, stride int, zero []T) {
	n := p.n
	var runs [25][]T
	d := runs[:n*n]
	var col, v [5]T
	var s [5][5]T
	for t := t0; t < t1; t++ {
		img, ty, tx := tile22(h/2, w/2, n-1, t)
		for ph := range 4 {
			tile22Input(x, h, w, c, n, img, ty, tx, ph, zero, d)
			base := ((t-t0)*4 + ph) * c
			done := w22InputAsm(n, d, u[base:], stride, c)
			for ch := done; ch < c; ch++ {
				// Rows: Bᵀ d.
				for q := range n {
					for r := range n {
						col[r] = d[r*n+q][ch]
					}
					p.bt(col[:n], v[:n])
					for a := range n {
						s[a][q] = v[a]
					}
				}
				// Columns: (Bᵀ d) B.
				at := base + ch
				for a := range n {
					p.bt(s[a][:n], v[:n])
					for b := range n {
						u[(a*n+b)*stride+at] = v[b]
					}
				}
			}
		}
	}
}

// w22InputAdjoint adds B dV Bᵀ, the adjoint of w22Input, of the tiles
// [t0, t1) (dv laid out as w22Input lays out u) into dx at the pixels they
// were read from; pixels in the padding go to sink.
func w22InputAdjoint[T float](p phaseTransform[T], dv []T, stride, h, w, c, t0, t1 int, dx, sink []T) {
	n := p.n
	var runs [25][]T
	d := runs[:n*n]
	var col, v [5]T
	var s [5][5]T
	for t := t0; t < t1; t++ {
		img, ty, tx := tile22(h/2, w/2, n-1, t)
		for ph := range 4 {
			tile22Input(dx, h, w, c, n, img, ty, tx, ph, sink, d)
			base := ((t-t0)*4 + ph) * c
			done := w22InputAdjointAsm(n, dv[base:], stride, d, c)
			for ch := done; ch < c; ch++ {
				at := base + ch
				// Columns first.
				for a := range n {
					for b := range n {
						col[b] = dv[(a*n+b)*stride+at]
					}
					p.b(col[:n], s[a][:n])
				}
				for q := range n {
					for a := range n {
						col[a] = s[a][q]
					}
					p.b(col[:n], v[:n])
					for r := range n {
						d[r*n+q][ch] += v[r]
					}
				}
			}
		}
	}
}

// w22Output writes Aᵀ m A of the tiles [t0, t1) (m: n² matrices of rows
// of c values) to their m×m outputs in y (batch, oh, ow, c).
func w22Output[T float](p phaseTransform[T], mm []T, stride, oh, ow, c, t0, t1 int, y []T) {
	n, m := p.n, p.m
	var runs [16][]T
	o := runs[:m*m]
	var col [5]T
	var out [4]T
	var s [4][5]T
	for t := t0; t < t1; t++ {
		tileOutputRuns(y, oh, ow, c, t, m, o)
		base := (t - t0) * c
		done := w22OutputAsm(n, mm[base:], stride, o, c)
		for ch := done; ch < c; ch++ {
			at := base + ch
			// Rows: Aᵀ m.
			for q := range n {
				for a := range n {
					col[a] = mm[(a*n+q)*stride+at]
				}
				p.at(col[:n], out[:m])
				for i := range m {
					s[i][q] = out[i]
				}
			}
			for i := range m {
				p.at(s[i][:n], out[:m])
				for j := range m {
					o[i*m+j][ch] = out[j]
				}
			}
		}
	}
}

// w22OutputAdjoint writes A dy Aᵀ of the tiles [t0, t1) of dy into dm,
// laid out as w22Output reads m.
func w22OutputAdjoint[T float](p phaseTransform[T], dy []T, oh, ow, c, t0, t1 int, dm []T, stride int) {
	n, m := p.n, p.m
	var runs [16][]T
	o := runs[:m*m]
	var col [5]T
	var row [4]T
	var s [4][5]T
	for t := t0; t < t1; t++ {
		tileOutputRuns(dy, oh, ow, c, t, m, o)
		base := (t - t0) * c
		done := w22OutputAdjointAsm(n, o, dm[base:], stride, c)
		for ch := done; ch < c; ch++ {
			at := base + ch
			// Rows of outputs first.
			for r := range m {
				for j := range m {
					row[j] = o[r*m+j][ch]
				}
				p.a(row[:m], s[r][:n])
			}
			for q := range n {
				for r := range m {
					row[r] = s[r][q]
				}
				p.a(row[:m], col[:n])
				for a := range n {
					dm[(a*n+q)*stride+at] = col[a]
				}
			}
		}
	}
}

// The assembly of the transforms, for float32 when winoAsm allows: each
// does the leading multiple of 8 of the c channels and returns how many.

func w22InputAsm[T float](n int, d [][]T, u []T, stride, c int) int {
	d32, ok := any(d).([][]float32)
	if !ok || !winoAsm {
		return 0
	}
	if n == 5 {
		return simd.Wino42Input((*[25][]float32)(d32), any(u).([]float32), stride, c)
	}
	return simd.Wino22Input((*[9][]float32)(d32), any(u).([]float32), stride, c)
}

func w22InputAdjointAsm[T float](n int, dv []T, stride int, d [][]T, c int) int {
	d32, ok := any(d).([][]float32)
	if !ok || !winoAsm {
		return 0
	}
	if n == 5 {
		return simd.Wino42InputAdjoint(any(dv).([]float32), stride, (*[25][]float32)(d32), c)
	}
	return simd.Wino22InputAdjoint(any(dv).([]float32), stride, (*[9][]float32)(d32), c)
}

func w22OutputAsm[T float](n int, m []T, stride int, y [][]T, c int) int {
	y32, ok := any(y).([][]float32)
	if !ok || !winoAsm {
		return 0
	}
	if n == 5 {
		return simd.Wino42Output(any(m).([]float32), stride, (*[16][]float32)(y32), c)
	}
	return simd.Wino22Output(any(m).([]float32), stride, (*[4][]float32)(y32), c)
}

func w22OutputAdjointAsm[T float](n int, y [][]T, dm []T, stride, c int) int {
	y32, ok := any(y).([][]float32)
	if !ok || !winoAsm {
		return 0
	}
	if n == 5 {
		return simd.Wino42OutputAdjoint((*[16][]float32)(y32), any(dm).([]float32), stride, c)
	}
	return simd.Wino22OutputAdjoint((*[4][]float32)(y32), any(dm).([]float32), stride, c)
}

// w22Pack transforms w and packs the n² matrices into store: as B of the
// forward products (4·inC × outC) and, if back is set, transposed, of the
// input gradient's (outC × 4·inC).
func w22Pack[T float](p phaseTransform[T], ws *workspace, g convGeom, w []T, store *[2]any, back bool) []*gemm.PackedB[T] {
	nxi := p.n * p.n
	rows := 4 * g.InC
	size := rows * g.OutC
	raw := scratch[T](ws, slotWeights, nxi*size)
	parallel(g.OutC, 16, func(lo, hi int) { w22Transform(p, g.InC, g.OutC, lo, hi, w, raw) })
	fwd := winoPacked[T](&store[0], nxi)
	jobs := nxi
	var bk []gemm.PackedB[T]
	if back {
		bk = winoPacked[T](&store[1], nxi)
		jobs = 2 * nxi
	}
	parallel(jobs, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := i % nxi
			if i < nxi {
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
func w22Cached[T float](p phaseTransform[T], op *convOp, w []T) []*gemm.PackedB[T] {
	g := op.geom
	nxi := p.n * p.n
	rows := 4 * g.InC
	size := rows * g.OutC
	var raw []T
	packs := make([]*gemm.PackedB[T], nxi)
	for xi := range packs {
		packs[xi] = cachedPacking(op.packs, packKey{op.name, -2 - xi}, func(pb *gemm.PackedB[T]) {
			if raw == nil {
				raw = make([]T, nxi*size)
				parallel(g.OutC, 16, func(lo, hi int) { w22Transform(p, g.InC, g.OutC, lo, hi, w, raw) })
			}
			gemm.PackB(pb, false, rows, g.OutC, raw[xi*size:(xi+1)*size], g.OutC)
		})
	}
	return packs
}

// w22Forward is convForward for a layer winograd22Fits, without the bias.
// In training it also packs the weights for the input gradient.
func w22Forward[T float](op *convOp, x, w, y []T) {
	g, p := op.geom, phaseTransformOf[T](op.wino)
	var b []*gemm.PackedB[T]
	if op.packs != nil {
		b = w22Cached(p, op, w)
	} else {
		b = preparedPacks(op, prepForward, &op.wino.packs22[0], p.n*p.n, func() []*gemm.PackedB[T] {
			return w22Pack(p, op.ws, g, w, &op.wino.packs22, op.inputGrad)
		})
	}
	oh, ow := g.OutH(), g.OutW()
	winoProducts(op.ws, w22Tiles(g, p.m), 1, 4*g.InC, g.OutC, b,
		func(t0, t1 int, u []T, stride int, zero []T) {
			w22Input(p, x, g.InH, g.InW, g.InC, t0, t1, u, stride, zero)
		},
		func(t0, t1 int, m []T, stride int, _ []T) { w22Output(p, m, stride, oh, ow, g.OutC, t0, t1, y) })
}

// w22Tiles is the number of m×m output tiles of a layer.
func w22Tiles(g convGeom, m int) int { return g.Batch * (g.OutH() / m) * (g.OutW() / m) }

// w22InputGrad is convInputGrad for a layer winograd22Fits, with the
// weights its forward pass packed. The tiles of an image overlap in dx, so
// the blocks are of whole images.
func w22InputGrad[T float](op *convOp, dy, dx []T) {
	g, p := op.geom, phaseTransformOf[T](op.wino)
	oh, ow := g.OutH(), g.OutW()
	clearAll(dx)
	winoProducts(op.ws, w22Tiles(g, p.m), (oh/p.m)*(ow/p.m), g.OutC, 4*g.InC, pointers(op.wino.packs22[1].([]gemm.PackedB[T])),
		func(t0, t1 int, m []T, stride int, _ []T) { w22OutputAdjoint(p, dy, oh, ow, g.OutC, t0, t1, m, stride) },
		func(t0, t1 int, dv []T, stride int, sink []T) {
			w22InputAdjoint(p, dv, stride, g.InH, g.InW, g.InC, t0, t1, dx, sink)
		})
}

// w22WeightGrad is convWeightGrad for a layer winograd22Fits.
func w22WeightGrad[T float](op *convOp, x, dy, dw []T) {
	g, p := op.geom, phaseTransformOf[T](op.wino)
	oh, ow := g.OutH(), g.OutW()
	sums := winoSums(op.ws, p.n*p.n, w22Tiles(g, p.m), 4*g.InC, g.OutC,
		func(t0, t1 int, u []T, stride int, zero []T) {
			w22Input(p, x, g.InH, g.InW, g.InC, t0, t1, u, stride, zero)
		},
		func(t0, t1 int, m []T, stride int, _ []T) { w22OutputAdjoint(p, dy, oh, ow, g.OutC, t0, t1, m, stride) })
	parallel(g.OutC, 8, func(lo, hi int) { w22Adjoint(p, g.InC, g.OutC, lo, hi, sums, dw) })
}
