package simd

import "math"

// AdamUpdate applies one step of Adam to the parameters w from their
// gradients g, updating the moments m and v, as PyTorch's torch.optim.Adam
// computes it with the bias corrections folded into stepSize (lr / (1 −
// β1ᵗ)) and invSqrtC2 (1 / √(1 − β2ᵗ)):
//
//	m = β1·m + (1 − β1)·g
//	v = β2·v + (1 − β2)·g·g
//	w = w − stepSize·m / (√v·invSqrtC2 + ε)
//
// It panics if g, m or v is shorter than w.
func AdamUpdate(w, g, m, v []float32, b1, b2, eps, stepSize, invSqrtC2 float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	done := adamAsm(w, g, m, v, b1, b2, eps, stepSize, invSqrtC2)
	adamGo(w[done:], g[done:], m[done:], v[done:], b1, b2, eps, stepSize, invSqrtC2)
}

// adamGo is AdamUpdate in Go. The conversions round every product, so
// that no compiler fuses a multiply and an add (which the assembly does
// not either).
func adamGo(w, g, m, v []float32, b1, b2, eps, stepSize, invSqrtC2 float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		mi := float32(b1*m[i]) + float32((1-b1)*gi)
		vi := float32(b2*v[i]) + float32(float32((1-b2)*gi)*gi)
		m[i], v[i] = mi, vi
		w[i] -= float32(stepSize*mi) / (float32(float32(math.Sqrt(float64(vi)))*invSqrtC2) + eps)
	}
}

// ReLUGrad sets dx to dy where y, the output of a ReLU, is not ±0, and to
// 0 where it is. It masks bits rather than branching, which the signs of
// activations would make unpredictable. It panics if dy or dx is shorter
// than y.
func ReLUGrad(y, dy, dx []float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	done := reluGradAsm(y, dy, dx)
	reluGradGo(y[done:], dy[done:], dx[done:])
}

// BiasReLU writes src plus bias, repeated over rows of len(bias) values, to
// dst, which may be src, and with relu replaces the values below 0 by 0
// (NaN and −0 stay). It writes the whole rows of dst and panics if src is
// shorter than dst.
func BiasReLU(dst, src, bias []float32, relu bool) {
	src = src[:len(dst)]
	if n := len(bias); n > 0 && n%8 != 0 && n/gcd(n, 8)*8 <= maxBiasGroup {
		biasReLUGroups(dst, src, bias, relu)
		return
	}
	done := biasReLUAsm(dst, src, bias, relu)
	BiasReLUGo(dst[done:], src[done:], bias, relu)
}

// biasReLUGroups is BiasReLU for rows that are not a multiple of 8 values
// long, which the assembly takes in groups of rows, with the bias repeated
// for a group. It is apart so that rows of a multiple of 8, the usual
// case, do not clear the group's buffer on every call.
func biasReLUGroups(dst, src, bias []float32, relu bool) {
	n := len(bias)
	var buf [maxBiasGroup]float32
	tiled := buf[:0]
	for len(tiled) < n/gcd(n, 8)*8 {
		tiled = append(tiled, bias...)
	}
	whole := len(dst) / len(tiled) * len(tiled)
	done := biasReLUAsm(dst[:whole], src[:whole], tiled, relu)
	BiasReLUGo(dst[done:], src[done:], bias, relu)
}

// maxBiasGroup is the longest group of rows BiasReLU repeats the bias for.
const maxBiasGroup = 512

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// BiasReLUGo is BiasReLU in Go, for float32 or float64.
func BiasReLUGo[T ~float32 | ~float64](dst, src, bias []T, relu bool) {
	n := len(bias)
	src = src[:len(dst)]
	for off := 0; n > 0 && off+n <= len(dst); off += n {
		row, in := dst[off:off+n], src[off:off+n]
		for j, b := range bias {
			v := in[j] + b
			if relu && v < 0 {
				v = 0
			}
			row[j] = v
		}
	}
}

func reluGradGo(y, dy, dx []float32) {
	dy = dy[:len(y)]
	dx = dx[:len(y)]
	for i, v := range y {
		var m uint32
		if math.Float32bits(v)<<1 != 0 {
			m = 0xffffffff
		}
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
}
