package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randomSlice(rng *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = scale * (2*rng.Float32() - 1)
	}
	return s
}

func TestAdamUpdateHasTheBitsOfGo(t *testing.T) {
	const seed = 1
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 100, 1031} {
		w, g := randomSlice(rng, n, 1), randomSlice(rng, n, 1e-3)
		m, v := randomSlice(rng, n, 1e-3), randomSlice(rng, n, 1e-6)
		for i := range v {
			v[i] = float32(math.Abs(float64(v[i])))
		}
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		for step := range 3 {
			AdamUpdate(w, g, m, v, 0.9, 0.999, 1e-8, 2e-4, 1.2)
			adamGo(w2, g, m2, v2, 0.9, 0.999, 1e-8, 2e-4, 1.2)
			for i := range w {
				if w[i] != w2[i] || m[i] != m2[i] || v[i] != v2[i] {
					t.Fatalf("n=%d step %d: element %d is (%v, %v, %v), Go gives (%v, %v, %v)", n, step, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
				}
			}
		}
	}
}

func TestReLUGradHasTheBitsOfGo(t *testing.T) {
	const seed = 3
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), 1e-45, 3}
	for _, n := range []int{0, 5, 8, 33, 1000} {
		y, dy := randomSlice(rng, n, 1), randomSlice(rng, n, 1)
		for i := range y {
			if rng.IntN(3) == 0 {
				y[i] = special[rng.IntN(len(special))]
			}
		}
		dx, want := make([]float32, n), make([]float32, n)
		ReLUGrad(y, dy, dx)
		reluGradGo(y, dy, want)
		for i := range dx {
			if math.Float32bits(dx[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: dx[%d] = %v for y %v, dy %v; Go gives %v", n, i, dx[i], y[i], dy[i], want[i])
			}
		}
	}
}

func TestBiasReLUHasTheBitsOfGo(t *testing.T) {
	const seed = 5
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(-1)), -1e-45, 3}
	for _, n := range []int{3, 8, 12, 20, 32, 64, 100} {
		for _, rows := range []int{0, 1, 7, 33} {
			for _, relu := range []bool{false, true} {
				src, bias := randomSlice(rng, rows*n, 1), randomSlice(rng, n, 1)
				for i := range src {
					if rng.IntN(3) == 0 {
						src[i] = special[rng.IntN(len(special))]
					}
				}
				bias[0] = 0
				got, want := make([]float32, len(src)), make([]float32, len(src))
				BiasReLU(got, src, bias, relu)
				BiasReLUGo(want, src, bias, relu)
				inPlace := append([]float32(nil), src...)
				BiasReLU(inPlace, inPlace, bias, relu)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(inPlace[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d relu=%v: [%d] = %v (in place %v) for %v + %v; Go gives %v", n, relu, i, got[i], inPlace[i], src[i], bias[i%n], want[i])
					}
					if v := src[i] + bias[i%n]; relu && v < 0 && want[i] != 0 || !relu && math.Float32bits(want[i]) != math.Float32bits(v) {
						t.Fatalf("n=%d relu=%v: [%d] = %v for %v + %v", n, relu, i, want[i], src[i], bias[i%n])
					}
				}
			}
		}
	}
}

func BenchmarkAdamUpdate(b *testing.B) {
	n := 1 << 20
	rng := rand.New(rand.NewPCG(1, 1))
	w, g, m, v := randomSlice(rng, n, 1), randomSlice(rng, n, 1), make([]float32, n), make([]float32, n)
	b.SetBytes(int64(n * 4 * 4))
	for b.Loop() {
		AdamUpdate(w, g, m, v, 0.9, 0.999, 1e-8, 2e-4, 1.2)
	}
}
