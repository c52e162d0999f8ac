package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestGemmPackedSameBitsAsGemm checks that products with B packed in
// advance, whole or a selection of its rows, give the bits of Gemm.
func TestGemmPackedSameBitsAsGemm(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		const seed = 9
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 10))
		for _, s := range []shape{
			{m: 1, n: 32, k: 48},
			{m: 37, n: 50, k: 300, transB: true},
			{m: 300, n: 128, k: 1024, transB: true},
			{m: 100, n: 70, k: 600, transA: true, alpha: 0.5, beta: 1},
			{m: 2, n: 2100, k: 20},
		} {
			if s.alpha == 0 {
				s.alpha = 1
			}
			t.Run(fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v", s.m, s.n, s.k, s.transA, s.transB), func(t *testing.T) {
				ar, ac := s.m, s.k
				if s.transA {
					ar, ac = s.k, s.m
				}
				br, bc := s.k, s.n
				if s.transB {
					br, bc = s.n, s.k
				}
				a := randomMatrix[float32](rng, ar*ac)
				b := randomMatrix[float32](rng, br*bc)
				c0 := randomMatrix[float32](rng, s.m*s.n)
				want := append([]float32(nil), c0...)
				Gemm(s.transA, s.transB, s.m, s.n, s.k, float32(s.alpha), a, ac, b, bc, float32(s.beta), want, s.n)
				var pb PackedB[float32]
				PackB(&pb, s.transB, s.k, s.n, b, bc)
				got := append([]float32(nil), c0...)
				GemmPacked(s.transA, s.m, s.n, s.k, float32(s.alpha), a, ac, &pb, float32(s.beta), got, s.n)
				same(t, "whole", got, want)

				// Rows [k/4, k/2) and [3k/4, k) of op(B), against a copy of them.
				if s.transA || s.k < 8 {
					return
				}
				runs := [][2]int{{s.k / 4, s.k / 2}, {3 * s.k / 4, s.k}}
				var sub []float32 // op(B)'s rows, k'×n
				var aSub []float32
				for _, r := range runs {
					for q := r[0]; q < r[1]; q++ {
						for j := range s.n {
							if s.transB {
								sub = append(sub, b[j*bc+q])
							} else {
								sub = append(sub, b[q*bc+j])
							}
						}
					}
				}
				kk := len(sub) / s.n
				for i := range s.m {
					for _, r := range runs {
						aSub = append(aSub, a[i*ac+r[0]:i*ac+r[1]]...)
					}
				}
				want = append(want[:0], c0...)
				Gemm(false, false, s.m, s.n, kk, float32(s.alpha), aSub, kk, sub, s.n, float32(s.beta), want, s.n)
				var sel PackedB[float32]
				pb.SelectRows(&sel, runs)
				got = append(got[:0], c0...)
				GemmPacked(false, s.m, s.n, kk, float32(s.alpha), aSub, kk, &sel, float32(s.beta), got, s.n)
				same(t, "selected rows", got, want)
			})
		}
	})
}

func same(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: C[%d] = %v, Gemm gives %v", what, i, got[i], want[i])
		}
	}
}

func TestGemmPackedPanicsOnAnotherKernel(t *testing.T) {
	if len(Kernels()) < 2 {
		t.Skip("one kernel only")
	}
	defer func(old string) { _ = UseKernel(old) }(Kernel())
	var pb PackedB[float32]
	PackB(&pb, false, 4, 4, make([]float32, 16), 4)
	if err := UseKernel(Kernels()[1]); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	GemmPacked(false, 4, 4, 4, 1, make([]float32, 16), 4, &pb, 0, make([]float32, 16), 4)
}
