package encoder

import (
	"os"

	"simsearch/encoder/internal/gemm"
	"simsearch/encoder/internal/simd"
)

// The decoder's 3×3 convolutions (stride 1, padding 1) run as Winograd's
// F(2×2, 3×3) on images of at least winogradMinRes pixels a side: each
// 2×2 block of outputs is 16 multiply-adds per pair of channels instead of
// 36, at the cost of transforming the input tiles, the weights and the
// outputs (additions only). A 4×4 tile of the input d, the 3×3 kernel g
// and the 2×2 outputs y relate by
//
//	y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//
// with the usual matrices of Lavin and Gray (2015):
//
//	Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//	Aᵀ = [1 1 1 0; 0 1 -1 -1]
//
// so a layer is 16 matrix products, one per element ξ of the 4×4 transform:
// tiles × input channels by input channels × output channels. The input
// gradient is the same convolution of the output gradient with the kernel
// flipped and its channels swapped; the weight gradient sums, per ξ, the
// products of the transformed input tiles with the output gradient
// transformed by Aᵀ's adjoint, then takes G's adjoint. The results differ
// from the direct sums by rounding only (tested against them); each output
// depends on its own tile alone and sums in one order, so an image gives the
// same bits alone as in a batch.

// winogradMinRes is the smallest side at which the transform saves work:
// at 2×2 the tap classes already skip the padding, which is most of the
// kernel.
const winogradMinRes = 4

// useWinograd turns the transform off when SIMSEARCH_WINOGRAD=off at start
// (the direct convolution then runs every layer, as for comparison);
// SIMSEARCH_WINOGRAD=2x2 keeps every layer to 2×2 output tiles,
// F(2×2, 3×3) and F(2×2, 2×2) (winograd43.go and winograd22.go have the
// larger ones), also for comparison.
var (
	useWinograd    = os.Getenv(winogradEnv) != winogradOff
	useLargerTiles = os.Getenv(winogradEnv) != winogradSmallTiles
)

// winogradEnv is the environment variable read at start, and its values.
const (
	winogradEnv        = "SIMSEARCH_WINOGRAD"
	winogradOff        = "off"
	winogradSmallTiles = "2x2"
)

// weightBlock is the number of output channels the weight transforms of
// every Winograd layer take together: 16 float32 values, a cache line, of
// each matrix row.
const weightBlock = 16

// winoAsm lets the float32 transforms use the assembly of package simd;
// tests turn it off to compare with the Go loops.
var winoAsm = true

// winogradFits tells whether g is a convolution the transform computes.
func winogradFits(g convGeom) bool {
	return useWinograd && gemm.Backend == "go" &&
		g.Kernel == 3 && g.Stride == 1 && g.Pad == 1 &&
		g.InH%2 == 0 && g.InW%2 == 0 && g.InH >= winogradMinRes && g.InW >= winogradMinRes
}

// winoState holds an op's transformed, packed weights between its passes.
type winoState struct {
	fwd, back any // []gemm.PackedB[T], one per ξ: for the forward pass and the input gradient
	// n is the side of the transform: for a 3×3 convolution 4 for
	// F(2×2, 3×3), 6 for F(4×4, 3×3) (winograd43.go); for a strided one 3
	// for F(2×2, 2×2), 5 for F(4×4, 2×2).
	n int
	// strided is set for a strided convolution by F(m×m, 2×2)
	// (winograd22.go), whose forward pass packs both in packs22.
	strided bool
	packs22 [2]any
}

// newWinoState returns the state of a layer of geometry g if Winograd's
// transform computes it, else nil.
func newWinoState(g convGeom) *winoState {
	switch {
	case winogradFits(g) && wino43Fits(g):
		return &winoState{n: 6}
	case winogradFits(g):
		return &winoState{n: 4}
	case winograd22Fits(g) && winograd42Fits(g):
		return &winoState{strided: true, n: 5}
	case winograd22Fits(g):
		return &winoState{strided: true, n: 3}
	}
	return nil
}

// winoTransformWeights writes G g Gᵀ of the kernels of the output channels
// [lo, hi) of w (outC rows of (ky, kx, inC) values) into dst, n² matrices
// of outC rows of inC values, n being 4 for F(2×2, 3×3) and 6 for
// F(4×4, 3×3); with flip set, of the kernel turned by 180°: the weights of
// the input gradient's convolution, whose products read the matrices as
// they are, where the forward pass reads their transposes. Each kernel
// row is read and each matrix row written in order of channels.
func winoTransformWeights[T float](n, inC, outC, lo, hi int, w []T, flip bool, dst []T) {
	k9 := 9 * inC
	size := inC * outC
	for co := lo; co < hi; co++ {
		row := w[co*k9 : (co+1)*k9]
		var taps [9][]T
		for ky := range 3 {
			for kx := range 3 {
				src := ky*3 + kx
				if flip {
					src = (2-ky)*3 + 2 - kx
				}
				taps[ky*3+kx] = row[src*inC : (src+1)*inC]
			}
		}
		var out [36][]T
		for xi := range n * n {
			out[xi] = dst[xi*size+co*inC : xi*size+(co+1)*inC]
		}
		for ci := range inC {
			var g [3][3]T
			for k := range 9 {
				g[k/3][k%3] = taps[k][ci]
			}
			// t = G g, then G tᵀ.
			var t [6][3]T
			var col [6]T
			for kx := range 3 {
				winoG(n, g[0][kx], g[1][kx], g[2][kx], &col)
				for a := range n {
					t[a][kx] = col[a]
				}
			}
			for a := range n {
				winoG(n, t[a][0], t[a][1], t[a][2], &col)
				for b := range n {
					out[a*n+b][ci] = col[b]
				}
			}
		}
	}
}

// winoG writes G g of one column g0, g1, g2 of a kernel into out[:n].
func winoG[T float](n int, g0, g1, g2 T, out *[6]T) {
	if n == 6 {
		wino43G(g0, g1, g2, out)
		return
	}
	out[0] = g0
	out[1] = (g0 + g1 + g2) / 2
	out[2] = (g0 - g1 + g2) / 2
	out[3] = g2
}

// winoGAdjoint writes Gᵀ u of one column u (n values) of a gradient in the
// transform's domain into out.
func winoGAdjoint[T float](u []T, out *[3]T) {
	if len(u) == 6 {
		wino43GAdjoint(u, out)
		return
	}
	h1, h2 := u[1]/2, u[2]/2
	out[0] = u[0] + h1 + h2
	out[1] = h1 - h2
	out[2] = h1 + h2 + u[3]
}

// winoWeightGradAdjoint writes Gᵀ dWt G, the adjoint of the weight
// transform, of the n² gradients dwt (inC × outC each) into the rows
// [lo, hi) of dw (outC rows of (ky, kx, inC)).
func winoWeightGradAdjoint[T float](n, inC, outC, lo, hi int, dwt []T, dw []T) {
	k9 := 9 * inC
	size := inC * outC
	// Blocks of output channels, the gradients' columns, so that each
	// input channel reads one run of the block from each matrix.
	for block := lo; block < hi; block += weightBlock {
		for ci := range inC {
			for co := block; co < min(block+weightBlock, hi); co++ {
				row := dw[co*k9 : (co+1)*k9]
				at := ci*outC + co
				var u [6][6]T
				for xi := range n * n {
					u[xi/n][xi%n] = dwt[xi*size+at]
				}
				// Columns: t[a][kx] = Σ_b u[a][b] G[b][kx].
				var t [3][6]T
				var g [3]T
				for a := range n {
					winoGAdjoint(u[a][:n], &g)
					t[0][a], t[1][a], t[2][a] = g[0], g[1], g[2]
				}
				for kx := range 3 {
					winoGAdjoint(t[kx][:n], &g)
					for ky := range 3 {
						row[(ky*3+kx)*inC+ci] = g[ky]
					}
				}
			}
		}
	}
}

// winoTiles is the number of 2×2 output tiles of an H×W image batch.
func winoTiles(batch, h, w int) int { return batch * (h / 2) * (w / 2) }

// winoInput writes Bᵀ d B of the tiles [t0, t1) of x (batch, h, w, c) into
// u: 16 matrices of (t1-t0) rows of c values, the matrix of ξ at ξ·stride.
// zero is c zeros, for the rows of a tile in the padding.
func winoInput[T float](x []T, h, w, c, t0, t1 int, u []T, stride int, zero []T) {
	for t := t0; t < t1; t++ {
		var d [16][]T
		tileInputRuns(x, h, w, c, t, 4, zero, d[:])
		base := (t - t0) * c
		done := 0
		if d32, ok := any(&d).(*[16][]float32); ok && winoAsm {
			done = simd.WinoInput(d32, any(u[base:]).([]float32), stride, c)
		}
		for ch := done; ch < c; ch++ {
			var v [4][4]T
			// Rows: Bᵀ d.
			for q := range 4 {
				d0, d1, d2, d3 := d[q][ch], d[4+q][ch], d[8+q][ch], d[12+q][ch]
				v[0][q] = d0 - d2
				v[1][q] = d1 + d2
				v[2][q] = d2 - d1
				v[3][q] = d1 - d3
			}
			// Columns: (Bᵀ d) B.
			at := base + ch
			for a := range 4 {
				d0, d1, d2, d3 := v[a][0], v[a][1], v[a][2], v[a][3]
				u[(a*4+0)*stride+at] = d0 - d2
				u[(a*4+1)*stride+at] = d1 + d2
				u[(a*4+2)*stride+at] = d2 - d1
				u[(a*4+3)*stride+at] = d1 - d3
			}
		}
	}
}

// tileInputRuns sets d (n² runs) to the runs of c values of the n×n input
// tile of output tile t of x (batch, h, w, c), row by row, for tiles of
// n−2 outputs a side (a 3×3 kernel, padding 1); runs in the padding are
// zero's.
func tileInputRuns[T float](x []T, h, w, c, t, n int, zero []T, d [][]T) {
	m := n - 2
	tw, th := w/m, h/m
	b, r := t/(th*tw), t%(th*tw)
	ty, tx := r/tw, r%tw
	for p := range n {
		iy := m*ty - 1 + p
		for q := range n {
			ix := m*tx - 1 + q
			if iy < 0 || iy >= h || ix < 0 || ix >= w {
				d[p*n+q] = zero[:c]
			} else {
				at := ((b*h+iy)*w + ix) * c
				d[p*n+q] = x[at : at+c : at+c]
			}
		}
	}
}

// tileOutputRuns sets o (m² runs) to the runs of c values of the m×m
// outputs of tile t in y (batch, h, w, c), row by row.
func tileOutputRuns[T float](y []T, h, w, c, t, m int, o [][]T) {
	tw, th := w/m, h/m
	b, r := t/(th*tw), t%(th*tw)
	ty, tx := r/tw, r%tw
	for i := range m {
		for j := range m {
			at := ((b*h+m*ty+i)*w + m*tx + j) * c
			o[i*m+j] = y[at : at+c : at+c]
		}
	}
}

// tileOutputs returns the four runs of c values of the 2×2 outputs of tile
// t in y (batch, h, w, c): (0, 0), (0, 1), (1, 0), (1, 1).
func tileOutputs[T float](y []T, h, w, c, t int) [4][]T {
	var o [4][]T
	tileOutputRuns(y, h, w, c, t, 2, o[:])
	return o
}

// winoOutput writes Aᵀ m A of the tiles [t0, t1), whose 16 products m holds
// as winoInput lays out u (rows of c values), to their 2×2 outputs in y
// (batch, h, w, c).
func winoOutput[T float](m []T, stride, h, w, c, t0, t1 int, y []T) {
	for t := t0; t < t1; t++ {
		o := tileOutputs(y, h, w, c, t)
		base := (t - t0) * c
		done := 0
		if o32, ok := any(&o).(*[4][]float32); ok && winoAsm {
			done = simd.WinoOutput(any(m[base:]).([]float32), stride, o32, c)
		}
		for ch := done; ch < c; ch++ {
			at := base + ch
			var s [2][4]T
			// Rows: Aᵀ m.
			for q := range 4 {
				m0, m1, m2, m3 := m[(0*4+q)*stride+at], m[(1*4+q)*stride+at], m[(2*4+q)*stride+at], m[(3*4+q)*stride+at]
				s[0][q] = m0 + m1 + m2
				s[1][q] = m1 - m2 - m3
			}
			o[0][ch] = s[0][0] + s[0][1] + s[0][2]
			o[1][ch] = s[0][1] - s[0][2] - s[0][3]
			o[2][ch] = s[1][0] + s[1][1] + s[1][2]
			o[3][ch] = s[1][1] - s[1][2] - s[1][3]
		}
	}
}

// winoOutputAdjoint writes A dy Aᵀ, the adjoint of winoOutput, of the
// tiles [t0, t1) of the output gradient dy into dm, laid out as winoInput
// lays out u.
func winoOutputAdjoint[T float](dy []T, h, w, c, t0, t1 int, dm []T, stride int) {
	for t := t0; t < t1; t++ {
		o := tileOutputs(dy, h, w, c, t)
		base := (t - t0) * c
		done := 0
		if o32, ok := any(&o).(*[4][]float32); ok && winoAsm {
			done = simd.WinoOutputAdjoint(o32, any(dm[base:]).([]float32), stride, c)
		}
		for ch := done; ch < c; ch++ {
			at := base + ch
			// Columns of A: a0 = y0, a1 = y0 + y1, a2 = y0 - y1, a3 = -y1.
			var s [2][4]T
			for r := range 2 {
				p, q := o[2*r][ch], o[2*r+1][ch]
				s[r] = [4]T{p, p + q, p - q, -q}
			}
			for q := range 4 {
				r0, r1 := s[0][q], s[1][q]
				dm[(0*4+q)*stride+at] = r0
				dm[(1*4+q)*stride+at] = r0 + r1
				dm[(2*4+q)*stride+at] = r0 - r1
				dm[(3*4+q)*stride+at] = -r1
			}
		}
	}
}

// winoPacked returns the n packings held in *store.
func winoPacked[T float](store *any, n int) []gemm.PackedB[T] {
	if p, ok := (*store).([]gemm.PackedB[T]); ok && len(p) == n {
		return p
	}
	p := make([]gemm.PackedB[T], n)
	*store = p
	return p
}

// pointers returns pointers to the elements of p.
func pointers[T float](p []gemm.PackedB[T]) []*gemm.PackedB[T] {
	ptrs := make([]*gemm.PackedB[T], len(p))
	for i := range p {
		ptrs[i] = &p[i]
	}
	return ptrs
}

// winoPack transforms w (flipped for the input gradient) by the transform
// of side n and packs the n² matrices into *store.
func winoPack[T float](ws *workspace, n int, g convGeom, w []T, flip bool, store *any) []*gemm.PackedB[T] {
	nxi := n * n
	raw := scratch[T](ws, slotWeights, nxi*g.InC*g.OutC)
	parallel(g.OutC, 16, func(lo, hi int) { winoTransformWeights(n, g.InC, g.OutC, lo, hi, w, flip, raw) })
	p := winoPacked[T](store, nxi)
	rows, cols := g.InC, g.OutC
	if flip {
		rows, cols = cols, rows
	}
	size := rows * cols
	parallel(nxi, 1, func(lo, hi int) {
		for xi := lo; xi < hi; xi++ {
			gemm.PackB(&p[xi], !flip, rows, cols, raw[xi*size:(xi+1)*size], g.InC)
		}
	})
	return pointers(p)
}

// tileTransform writes the transforms of the tiles [t0, t1) into dst, as
// matrices of rows of values, the one of ξ at ξ·stride. pad is scratch of
// the larger side's channels, zero when the call starts: zeros to read for
// the padding, or a place to write what falls in it.
type tileTransform[T float] func(t0, t1 int, dst []T, stride int, pad []T)

// winoProducts runs a Winograd pass block by block of tiles (whole units
// of unit tiles), the blocks shared out between the cores: in transforms a
// block into len(b) matrices of rows of a values, each is multiplied by its
// packed b[ξ] (a × c), and out takes the len(b) products (rows of c values).
// A block's transforms and products fit in about chunkValues, so that they
// are still in the cache when they are read.
func winoProducts[T float](ws *workspace, tiles, unit, a, c int, b []*gemm.PackedB[T], in, out tileTransform[T]) {
	nxi := len(b)
	per := min(tiles, unit*max(1, chunkValues/(nxi*(a+c)*unit), 6/unit))
	blocks := (tiles + per - 1) / per
	workers := min(gemm.Workers(), blocks)
	us, ms, padLen := per*a, per*c, max(a, c)
	region := nxi*(us+ms) + padLen
	buf := scratch[T](ws, slotCols, workers*region)
	parallelBlocks(blocks, workers, func(wk, blk int) {
		t0 := blk * per
		t1 := min(tiles, t0+per)
		n := t1 - t0
		r := buf[wk*region : (wk+1)*region]
		u, m, pad := r[:nxi*us], r[nxi*us:nxi*(us+ms)], r[nxi*(us+ms):]
		clear(pad)
		in(t0, t1, u, us, pad)
		for xi := range nxi {
			gemm.GemmPackedSerial(false, n, c, a, 1, u[xi*us:], a, b[xi], 0, m[xi*ms:xi*ms+n*c], c)
		}
		out(t0, t1, m, ms, pad)
	})
}

// winoSums returns the weight gradient of a Winograd layer in its domain:
// for each ξ of the nxi, the sum over all tiles of uᵀ m, a × c, where x
// transforms the input tiles (rows of a values) and dy the output
// gradient's (rows of c). The blocks of tiles run in order, each of the
// nxi sums one goroutine's, so the sums run in one order whatever the
// number of goroutines; the blocks are whole blocks of k of the products
// (so that the sums run as in one product over all tiles), four times the
// usual size: each one waits for both cores twice.
func winoSums[T float](ws *workspace, nxi, tiles, a, c int, x, dy tileTransform[T]) []T {
	per := min(tiles, max(gemm.BlockK, 4*chunkValues/(nxi*(a+c))/gemm.BlockK*gemm.BlockK))
	size := a * c
	// The products' columns are the wider side's channels, which fill the
	// micro-kernel's columns best.
	transposed := a > c
	sums := scratch[T](ws, slotGrad, nxi*size)
	us, ms := per*a, per*c
	buf := scratch[T](ws, slotCols, nxi*(us+ms)+max(a, c))
	u, m, zero := buf[:nxi*us], buf[nxi*us:nxi*(us+ms)], buf[nxi*(us+ms):]
	clear(zero)
	for t0 := 0; t0 < tiles; t0 += per {
		t1 := min(tiles, t0+per)
		n := t1 - t0
		parallel(n, 8, func(lo, hi int) {
			x(t0+lo, t0+hi, u[lo*a:], us, zero)
			dy(t0+lo, t0+hi, m[lo*c:], ms, zero)
		})
		beta := T(1)
		if t0 == 0 {
			beta = 0
		}
		parallel(nxi, 1, func(lo, hi int) {
			for xi := lo; xi < hi; xi++ {
				ux, mx, sx := u[xi*us:xi*us+n*a], m[xi*ms:xi*ms+n*c], sums[xi*size:(xi+1)*size]
				if transposed {
					gemm.Gemm(true, false, c, a, n, 1, mx, c, ux, a, beta, sx, a)
				} else {
					gemm.Gemm(true, false, a, c, n, 1, ux, a, mx, c, beta, sx, c)
				}
			}
		})
	}
	if !transposed {
		return sums
	}
	t := scratch[T](ws, slotRows, nxi*size)
	parallel(nxi, 1, func(lo, hi int) {
		for xi := lo; xi < hi; xi++ {
			src, dst := sums[xi*size:(xi+1)*size], t[xi*size:(xi+1)*size]
			for r := range c {
				for k := range a {
					dst[k*c+r] = src[r*a+k]
				}
			}
		}
	})
	return t
}

// winoTransforms are the tile transforms of a 3×3 layer: F(2×2, 3×3) or
// F(4×4, 3×3) by the side n of its transform.
type winoTransforms[T float] struct {
	n         int
	tiles     func(batch, h, w int) int
	input     func(x []T, h, w, c, t0, t1 int, u []T, stride int, zero []T)
	output    func(m []T, stride, h, w, c, t0, t1 int, y []T)
	outputAdj func(dy []T, h, w, c, t0, t1 int, dm []T, stride int)
}

func transformsOf[T float](s *winoState) winoTransforms[T] {
	if s.n == 6 {
		return winoTransforms[T]{6, wino43Tiles, wino43Input[T], wino43Output[T], wino43OutputAdjoint[T]}
	}
	return winoTransforms[T]{4, winoTiles, winoInput[T], winoOutput[T], winoOutputAdjoint[T]}
}

// winoForward is convForward for a layer Winograd's transform computes:
// the products, then the caller's bias and ReLU.
func winoForward[T float](op *convOp, x, w, y []T) {
	if op.wino.strided {
		w22Forward(op, x, w, y)
		return
	}
	g, tr := op.geom, transformsOf[T](op.wino)
	h, wd, cin, cout := g.InH, g.InW, g.InC, g.OutC
	b := preparedPacks(op, prepForward, &op.wino.fwd, tr.n*tr.n, func() []*gemm.PackedB[T] {
		return winoPack(op.ws, tr.n, g, w, false, &op.wino.fwd)
	})
	winoProducts(op.ws, tr.tiles(g.Batch, h, wd), 1, cin, cout, b,
		func(t0, t1 int, u []T, stride int, zero []T) { tr.input(x, h, wd, cin, t0, t1, u, stride, zero) },
		func(t0, t1 int, m []T, stride int, _ []T) { tr.output(m, stride, h, wd, cout, t0, t1, y) })
}

// winoInputGrad is convInputGrad for a layer Winograd's transform
// computes: the forward pass of the flipped kernel.
func winoInputGrad[T float](op *convOp, dy, w, dx []T) {
	if op.wino.strided {
		w22InputGrad(op, dy, dx)
		return
	}
	g, tr := op.geom, transformsOf[T](op.wino)
	h, wd, cin, cout := g.InH, g.InW, g.InC, g.OutC
	b := preparedPacks(op, prepBack, &op.wino.back, tr.n*tr.n, func() []*gemm.PackedB[T] {
		return winoPack(op.ws, tr.n, g, w, true, &op.wino.back)
	})
	winoProducts(op.ws, tr.tiles(g.Batch, h, wd), 1, cout, cin, b,
		func(t0, t1 int, u []T, stride int, zero []T) { tr.input(dy, h, wd, cout, t0, t1, u, stride, zero) },
		func(t0, t1 int, m []T, stride int, _ []T) { tr.output(m, stride, h, wd, cin, t0, t1, dx) })
}

// winoWeightGrad is convWeightGrad for a layer Winograd's transform
// computes.
func winoWeightGrad[T float](op *convOp, x, dy, dw []T) {
	if op.wino.strided {
		w22WeightGrad(op, x, dy, dw)
		return
	}
	g, tr := op.geom, transformsOf[T](op.wino)
	h, wd, cin, cout := g.InH, g.InW, g.InC, g.OutC
	sums := winoSums(op.ws, tr.n*tr.n, tr.tiles(g.Batch, h, wd), cin, cout,
		func(t0, t1 int, u []T, stride int, zero []T) { tr.input(x, h, wd, cin, t0, t1, u, stride, zero) },
		func(t0, t1 int, m []T, stride int, _ []T) { tr.outputAdj(dy, h, wd, cout, t0, t1, m, stride) })
	parallel(cout, 8, func(lo, hi int) { winoWeightGradAdjoint(tr.n, cin, cout, lo, hi, sums, dw) })
}
