package encoder

import "simsearch/encoder/internal/simd"

// On images whose sides are multiples of 4 and at least wino43MinRes, the
// decoder's 3×3 convolutions run as Winograd's F(4×4, 3×3) rather than
// F(2×2, 3×3): each 4×4 block of outputs is 36 multiply-adds per pair of
// channels instead of 64 (and 144 directly), and the transformed tiles are
// 36 values per 16 outputs instead of 16 per 4, so less is written and
// read too. A 6×6 tile of the
// input d, the kernel g and the 4×4 outputs y relate by
//
//	y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//
// with Lavin and Gray's matrices for the points 0, ±1, ±2 and ∞:
//
//	Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//	G  = [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1]
//	Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
//
// The passes are those of F(2×2, 3×3) (winograd.go) with 36 matrices ξ
// instead of 16. The larger coefficients round more: the results differ
// from the direct sums by a few millionths of their scale, against a few
// ten-millionths for F(2×2, 3×3) (tested to 1e-5).

// wino43MinRes is the smallest side at which F(4×4, 3×3) gains over
// F(2×2, 3×3): at 4×4 px most of its 6×6 tile is padding, and it ran the
// 64 px autoencoder's 4 px layer slower.
const wino43MinRes = 8

// wino43Fits tells whether a 3×3 convolution Winograd's transform
// computes (winogradFits) runs as F(4×4, 3×3).
func wino43Fits(g convGeom) bool {
	return useLargerTiles && g.InH%4 == 0 && g.InW%4 == 0 && g.InH >= wino43MinRes && g.InW >= wino43MinRes
}

// wino43Tiles is the number of 4×4 output tiles of an H×W image batch.
func wino43Tiles(batch, h, w int) int { return batch * (h / 4) * (w / 4) }

// wino43G is G g of one column of a kernel.
func wino43G[T float](g0, g1, g2 T, out *[6]T) {
	const sixth, twelfth, twentyFourth = 1.0 / 6, 1.0 / 12, 1.0 / 24
	out[0] = g0 / 4
	out[1] = (g0 + g1 + g2) * -sixth
	out[2] = (g0 - g1 + g2) * -sixth
	out[3] = g0*twentyFourth + g1*twelfth + g2*sixth
	out[4] = g0*twentyFourth - g1*twelfth + g2*sixth
	out[5] = g2
}

// wino43GAdjoint is Gᵀ u of one column of a weight gradient.
func wino43GAdjoint[T float](u []T, out *[3]T) {
	const sixth, twelfth, twentyFourth = 1.0 / 6, 1.0 / 12, 1.0 / 24
	s12, s34 := u[1]+u[2], u[3]+u[4]
	out[0] = u[0]/4 - s12*sixth + s34*twentyFourth
	out[1] = (u[2]-u[1])*sixth + (u[3]-u[4])*twelfth
	out[2] = s34*sixth - s12*sixth + u[5]
}

// wino43B is Bᵀ d of one column of a tile, in the order of additions the
// assembly of package simd follows.
func wino43B[T float](d0, d1, d2, d3, d4, d5 T) (v0, v1, v2, v3, v4, v5 T) {
	v0 = T(4*d0) - T(5*d2) + d4
	v1 = (d3 + d4) - T(4*(d1+d2))
	v2 = (d4 - d3) + T(4*(d1-d2))
	a, b := d4-d2, T(2*(d3-d1))
	v3 = a + b
	v4 = a - b
	v5 = T(4*d1) - T(5*d3) + d5
	return
}

// wino43A is Aᵀ m of one column of the products.
func wino43A[T float](m0, m1, m2, m3, m4, m5 T) (y0, y1, y2, y3 T) {
	p, q, r, s := m1+m2, m1-m2, m3+m4, m3-m4
	y0 = m0 + p + r
	y1 = q + T(2*s)
	y2 = p + T(4*r)
	y3 = q + T(8*s) + m5
	return
}

// wino43AAdjoint is A y of one column of output gradients.
func wino43AAdjoint[T float](y0, y1, y2, y3 T) (d0, d1, d2, d3, d4, d5 T) {
	e, o := y0+y2, y1+y3
	e4, o2 := y0+T(4*y2), T(2*y1)+T(8*y3)
	return y0, e + o, e - o, e4 + o2, e4 - o2, y3
}

// wino43Input writes Bᵀ d B of the tiles [t0, t1) of x (batch, h, w, c)
// into u: 36 matrices of (t1-t0) rows of c values, the matrix of ξ at
// ξ·stride. zero is c zeros, for the rows of a tile in the padding.
func wino43Input[T float](x []T, h, w, c, t0, t1 int, u []T, stride int, zero []T) {
	for t := t0; t < t1; t++ {
		var d [36][]T
		tileInputRuns(x, h, w, c, t, 6, zero, d[:])
		base := (t - t0) * c
		done := 0
		if d32, ok := any(&d).(*[36][]float32); ok && winoAsm {
			done = simd.Wino43Input(d32, any(u[base:]).([]float32), stride, c)
		}
		for ch := done; ch < c; ch++ {
			var v [6][6]T
			// Rows: Bᵀ d.
			for q := range 6 {
				v[0][q], v[1][q], v[2][q], v[3][q], v[4][q], v[5][q] =
					wino43B(d[q][ch], d[6+q][ch], d[12+q][ch], d[18+q][ch], d[24+q][ch], d[30+q][ch])
			}
			// Columns: (Bᵀ d) B.
			at := base + ch
			for a := range 6 {
				o := u[a*6*stride+at:]
				o[0], o[stride], o[2*stride], o[3*stride], o[4*stride], o[5*stride] =
					wino43B(v[a][0], v[a][1], v[a][2], v[a][3], v[a][4], v[a][5])
			}
		}
	}
}

// tile43Outputs returns the 16 runs of c values of the 4×4 outputs of tile
// t in y (batch, h, w, c), row by row.
func tile43Outputs[T float](y []T, h, w, c, t int) [16][]T {
	var o [16][]T
	tileOutputRuns(y, h, w, c, t, 4, o[:])
	return o
}

// wino43Output writes Aᵀ m A of the tiles [t0, t1), whose 36 products m
// holds as wino43Input lays out u, to their 4×4 outputs in y (batch, h, w,
// c).
func wino43Output[T float](m []T, stride, h, w, c, t0, t1 int, y []T) {
	for t := t0; t < t1; t++ {
		o := tile43Outputs(y, h, w, c, t)
		base := (t - t0) * c
		done := 0
		if o32, ok := any(&o).(*[16][]float32); ok && winoAsm {
			done = simd.Wino43Output(any(m[base:]).([]float32), stride, o32, c)
		}
		for ch := done; ch < c; ch++ {
			at := base + ch
			var s [4][6]T
			// Rows: Aᵀ m.
			for q := range 6 {
				col := m[q*stride+at:]
				s[0][q], s[1][q], s[2][q], s[3][q] = wino43A(col[0], col[6*stride], col[12*stride], col[18*stride], col[24*stride], col[30*stride])
			}
			// Columns: (Aᵀ m) A.
			for i := range 4 {
				o[i*4][ch], o[i*4+1][ch], o[i*4+2][ch], o[i*4+3][ch] = wino43A(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5])
			}
		}
	}
}

// wino43OutputAdjoint writes A dy Aᵀ, the adjoint of wino43Output, of the
// tiles [t0, t1) of the output gradient dy into dm, laid out as
// wino43Input lays out u.
func wino43OutputAdjoint[T float](dy []T, h, w, c, t0, t1 int, dm []T, stride int) {
	for t := t0; t < t1; t++ {
		o := tile43Outputs(dy, h, w, c, t)
		base := (t - t0) * c
		done := 0
		if o32, ok := any(&o).(*[16][]float32); ok && winoAsm {
			done = simd.Wino43OutputAdjoint(o32, any(dm[base:]).([]float32), stride, c)
		}
		for ch := done; ch < c; ch++ {
			at := base + ch
			var s [6][4]T
			// Rows: A dy.
			for j := range 4 {
				s[0][j], s[1][j], s[2][j], s[3][j], s[4][j], s[5][j] = wino43AAdjoint(o[j][ch], o[4+j][ch], o[8+j][ch], o[12+j][ch])
			}
			// Columns: (A dy) Aᵀ.
			for a := range 6 {
				d := dm[a*6*stride+at:]
				d[0], d[stride], d[2*stride], d[3*stride], d[4*stride], d[5*stride] = wino43AAdjoint(s[a][0], s[a][1], s[a][2], s[a][3])
			}
		}
	}
}
