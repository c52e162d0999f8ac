package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// naive computes alpha·op(A)·op(B) + beta·C in float64.
func naive[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var sum float64
			for p := range k {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				sum += float64(av) * float64(bv)
			}
			out[i*n+j] = float64(alpha)*sum + float64(beta)*float64(c[i*ldc+j])
		}
	}
	return out
}

func randomMatrix[T Float](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(rng.Float64()*2 - 1)
	}
	return s
}

// randomOperands returns an m×k and a k×n matrix of values in [-1, 1),
// drawn from the generator seeded with seed.
func randomOperands(seed [2]uint64, m, n, k int) (a, b []float32) {
	rng := rand.New(rand.NewPCG(seed[0], seed[1]))
	return randomMatrix[float32](rng, m*k), randomMatrix[float32](rng, k*n)
}

type shape struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float64
	pad            int // extra elements per row beyond the minimum stride
}

func shapes(rng *rand.Rand) []shape {
	edges := []int{1, 2, 5, 6, 7, 15, 16, 17, 31, 97}
	var out []shape
	for _, m := range edges {
		for _, n := range edges {
			out = append(out, shape{m: m, n: n, k: edges[rng.IntN(len(edges))], transA: rng.IntN(2) == 0, transB: rng.IntN(2) == 0, alpha: 1, beta: 0})
		}
	}
	out = append(out,
		shape{m: 0, n: 5, k: 3, alpha: 1},
		shape{m: 5, n: 0, k: 3, alpha: 1},
		shape{m: 5, n: 4, k: 0, alpha: 1, beta: 0.5},
		shape{m: 13, n: 9, k: 11, alpha: 0, beta: 2},
		shape{m: 300, n: 40, k: 600, alpha: 1.5, beta: 1, pad: 3},
		shape{m: 150, n: 2100, k: 70, transB: true, alpha: -1, beta: 0.25, pad: 1},
		shape{m: 37, n: 300, k: 513, transA: true, alpha: 1, beta: 0},
		shape{m: 1000, n: 33, k: 257, transA: true, transB: true, alpha: 0.5, beta: -1, pad: 2},
	)
	return out
}

func testGemm[T Float](t *testing.T, tol float64) {
	seed := uint64(1)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, s := range shapes(rng) {
		name := fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v_a%g_b%g", s.m, s.n, s.k, s.transA, s.transB, s.alpha, s.beta)
		t.Run(name, func(t *testing.T) {
			ar, ac := s.m, s.k
			if s.transA {
				ar, ac = s.k, s.m
			}
			br, bc := s.k, s.n
			if s.transB {
				br, bc = s.n, s.k
			}
			lda, ldb, ldc := max(ac, 1)+s.pad, max(bc, 1)+s.pad, max(s.n, 1)+s.pad
			a := randomMatrix[T](rng, ar*lda)
			b := randomMatrix[T](rng, br*ldb)
			c := randomMatrix[T](rng, s.m*ldc)
			if s.beta == 0 {
				for i := range c {
					c[i] = T(math.NaN()) // must not propagate
				}
			}
			want := naive(s.transA, s.transB, s.m, s.n, s.k, T(s.alpha), a, lda, b, ldb, T(s.beta), c, ldc)
			got := append([]T(nil), c...)
			Gemm(s.transA, s.transB, s.m, s.n, s.k, T(s.alpha), a, lda, b, ldb, T(s.beta), got, ldc)
			for i := range s.m {
				for j := range s.n {
					g, w := float64(got[i*ldc+j]), want[i*s.n+j]
					if math.Abs(g-w) > tol*(1+math.Sqrt(float64(s.k))) {
						t.Fatalf("C[%d][%d] = %g, want %g", i, j, g, w)
					}
				}
				for j := s.n; j < ldc && i*ldc+j < len(c); j++ {
					if g, w := got[i*ldc+j], c[i*ldc+j]; g != w && !(math.IsNaN(float64(g)) && math.IsNaN(float64(w))) {
						t.Fatalf("padding C[%d][%d] changed from %g to %g", i, j, w, g)
					}
				}
			}
		})
	}
}

// eachKernel runs f once with each float32 kernel this machine has
// selected, as a subtest named after it.
func eachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer func(old string) {
		if err := UseKernel(old); err != nil {
			t.Fatal(err)
		}
	}(Kernel())
	for _, name := range Kernels() {
		if err := UseKernel(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

func TestGemmFloat32(t *testing.T) {
	eachKernel(t, func(t *testing.T) { testGemm[float32](t, 1e-5) })
}

func TestGemmFloat64(t *testing.T) { testGemm[float64](t, 1e-12) }

func TestUseKernel(t *testing.T) {
	defer func(old string) { _ = UseKernel(old) }(Kernel())
	names := Kernels()
	if len(names) == 0 || names[len(names)-1] != KernelGo {
		t.Fatalf("Kernels() = %v, want the portable kernel last", names)
	}
	if err := UseKernel("no-such-kernel"); err == nil {
		t.Fatal("no error for an unknown kernel")
	}
	if err := UseKernel(""); err != nil || Kernel() != names[0] {
		t.Fatalf("UseKernel(\"\") = %v, kernel %s, want %s", err, Kernel(), names[0])
	}
}

// TestGemmSameResultWithAnyThreads checks that splitting the work does not
// change a single bit of the result.
func TestGemmSameResultWithAnyThreads(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		m, n, k := 301, 77, 700
		a, b := randomOperands([2]uint64{3, 4}, m, n, k)
		defer func(old int) { Threads = old }(Threads)
		var first []float32
		for _, threads := range []int{1, 2, 3, 8} {
			Threads = threads
			c := make([]float32, m*n)
			Gemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
			if first == nil {
				first = c
				continue
			}
			for i := range c {
				if c[i] != first[i] {
					t.Fatalf("threads=%d: C[%d] = %v, with 1 thread %v", threads, i, c[i], first[i])
				}
			}
		}
	})
}

// TestGemmRowsDoNotDependOnTheirNeighbours checks that a row of C has the
// same bits whether it is computed alone, among a few rows or in a large
// product, with A read in place or packed (transposed): an image embeds to
// the same vector alone or in a batch.
func TestGemmRowsDoNotDependOnTheirNeighbours(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		const seed = 5
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 6))
		for _, s := range []struct{ m, n, k int }{{257, 48, 36}, {100, 128, 1024}, {64, 300, 600}} {
			a := randomMatrix[float32](rng, s.m*s.k)
			at := make([]float32, s.k*s.m)
			for i := range s.m {
				for p := range s.k {
					at[p*s.m+i] = a[i*s.k+p]
				}
			}
			b := randomMatrix[float32](rng, s.n*s.k)
			full := make([]float32, s.m*s.n)
			Gemm(false, true, s.m, s.n, s.k, 1, a, s.k, b, s.k, 0, full, s.n)
			packed := make([]float32, s.m*s.n)
			Gemm(true, true, s.m, s.n, s.k, 1, at, s.m, b, s.k, 0, packed, s.n)
			for i := range full {
				if full[i] != packed[i] {
					t.Fatalf("%v: C[%d] = %v read in place, %v packed", s, i, full[i], packed[i])
				}
			}
			for _, rows := range []int{1, 5, 13} {
				for _, i0 := range []int{0, 7, s.m - rows} {
					c := make([]float32, rows*s.n)
					Gemm(false, true, rows, s.n, s.k, 1, a[i0*s.k:], s.k, b, s.k, 0, c, s.n)
					for i := range c {
						if c[i] != full[i0*s.n+i] {
							t.Fatalf("%v: rows %d from %d: C[%d] = %v, in the whole product %v", s, rows, i0, i, c[i], full[i0*s.n+i])
						}
					}
				}
			}
		}
	})
}

// TestGemmOverlappingRows checks products whose operands' rows overlap
// (a leading dimension below their columns, as a convolution's windows
// over an image laid out for them) against the same rows copied apart, bit
// for bit, in place and packed, by Gemm and by GemmSerial.
func TestGemmOverlappingRows(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		const m, n, k, ld = 301, 32, 48, 24
		over := randomMatrix[float32](rng, (m-1)*ld+k)
		apart := make([]float32, m*k)
		for i := range m {
			copy(apart[i*k:(i+1)*k], over[i*ld:i*ld+k])
		}
		b := randomMatrix[float32](rng, n*k)
		want := make([]float32, m*n)
		Gemm(false, true, m, n, k, 1, apart, k, b, k, 0, want, n)
		for _, serial := range []bool{false, true} {
			got := make([]float32, m*n)
			if serial {
				GemmSerial(false, true, m, n, k, 1, over, ld, b, k, 0, got, n)
			} else {
				Gemm(false, true, m, n, k, 1, over, ld, b, k, 0, got, n)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("serial %v: C[%d] = %v with overlapping rows of A, %v apart", serial, i, got[i], want[i])
				}
			}
		}
		// The transposed product, Aᵀ·D, with A's rows overlapping: its
		// packing reads them.
		d := randomMatrix[float32](rng, m*n)
		want = make([]float32, k*n)
		Gemm(true, false, k, n, m, 1, apart, k, d, n, 0, want, n)
		got := make([]float32, k*n)
		GemmSerial(true, false, k, n, m, 1, over, ld, d, n, 0, got, n)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("transposed: C[%d] = %v with overlapping rows of A, %v apart", i, got[i], want[i])
			}
		}
		ref := naive(true, false, k, n, m, 1, apart, k, d, n, 0, make([]float32, k*n), n)
		for i := range ref {
			if math.Abs(float64(got[i])-ref[i]) > 1e-4 {
				t.Fatalf("transposed: C[%d] = %v, want %v", i, got[i], ref[i])
			}
		}
	})
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	Gemm(false, false, 4, 4, 4, float32(1), make([]float32, 15), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
}

func TestGemmRefusesOverlappingRowsOfC(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "leading dimension of C is 3, less than its 4 columns") {
			t.Fatalf("panic %q, want one about C's rows", msg)
		}
	}()
	Gemm(false, false, 4, 4, 4, float32(1), make([]float32, 16), 4, make([]float32, 16), 4, 0, make([]float32, 16), 3)
}

// The products of one training step of the 32-pixel encoder of width 32
// on 128 images (64 contrastive pairs): for each convolution, the forward
// product (im2col × Wᵀ), the weight gradient (dYᵀ × im2col) and the input
// gradient (dY × W).
var benchShapes = []struct {
	name           string
	m, n, k        int
	transA, transB bool
}{
	{"conv1_forward", 32768, 32, 48, false, true},
	{"conv2_forward", 8192, 64, 512, false, true},
	{"conv3_forward", 2048, 128, 1024, false, true},
	{"conv4_forward", 512, 256, 2048, false, true},
	{"conv5_forward", 128, 128, 4096, false, true},
	{"conv1_weight_grad", 32, 48, 32768, true, false},
	{"conv2_weight_grad", 64, 512, 8192, true, false},
	{"conv3_weight_grad", 128, 1024, 2048, true, false},
	{"conv4_weight_grad", 256, 2048, 512, true, false},
	{"conv5_weight_grad", 128, 4096, 128, true, false},
	{"conv2_input_grad", 8192, 512, 64, false, false},
	{"conv3_input_grad", 2048, 1024, 128, false, false},
	{"conv4_input_grad", 512, 2048, 256, false, false},
	{"conv5_input_grad", 128, 4096, 128, false, false},
}

// BenchmarkGemm times the products of benchShapes with each float32 kernel.
func BenchmarkGemm(b *testing.B) {
	defer func(old string) { _ = UseKernel(old) }(Kernel())
	for _, kernel := range Kernels() {
		if kernel == KernelGo && len(Kernels()) > 1 {
			continue // ten times slower; -tags purego measures it
		}
		if err := UseKernel(kernel); err != nil {
			b.Fatal(err)
		}
		b.Run(kernel, benchmarkGemm)
	}
}

func benchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			x := randomMatrix[float32](rng, s.m*s.k)
			y := randomMatrix[float32](rng, s.k*s.n)
			c := make([]float32, s.m*s.n)
			lda, ldb := s.k, s.n
			if s.transA {
				lda = s.m
			}
			if s.transB {
				ldb = s.k
			}
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, c, s.n)
			}
			flop := 2 * float64(s.m*s.n*s.k) * float64(b.N)
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			// Per second of CPU time, which other processes on the machine
			// disturb less than wall time.
			b.ReportMetric(flop/(cpuTime()-cpu).Seconds()/1e9, "GFLOP/cpu-s")
		})
	}
}

// TestGemmColumnsDoNotDependOnTheWidth checks that a column of C has the
// same bits whatever the number of columns of the product, so whether its
// tile was on the edge of C (computed apart, maybe by a narrower kernel)
// or not.
func TestGemmColumnsDoNotDependOnTheWidth(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		const seed = 15
		t.Logf("seed %d", seed)
		m, k, wide := 50, 300, 96
		a, b := randomOperands([2]uint64{seed, 16}, m, wide, k)
		want := make([]float32, m*wide)
		Gemm(false, false, m, wide, k, 1, a, k, b, wide, 0, want, wide)
		for _, n := range []int{1, 12, 16, 17, 40, 48, 70} {
			for _, transA := range []bool{false, true} {
				aa, lda := a, k
				if transA {
					aa, lda = make([]float32, k*m), m
					for i := range m {
						for p := range k {
							aa[p*m+i] = a[i*k+p]
						}
					}
				}
				c := make([]float32, m*n)
				Gemm(transA, false, m, n, k, 1, aa, lda, b, wide, 0, c, n)
				for i := range m {
					for j := range n {
						if c[i*n+j] != want[i*wide+j] {
							t.Fatalf("n=%d transA=%v: C[%d][%d] = %v, %v in a product of %d columns", n, transA, i, j, c[i*n+j], want[i*wide+j], wide)
						}
					}
				}
			}
		}
	})
}

// TestSerialProductsDoNotAllocate checks that a product on the calling
// goroutine allocates nothing once the pool holds its buffers: a training
// step makes tens of thousands of small products over Winograd's tiles, and
// a problem moved to the heap for each of them cost a 64 px autoencoder
// step about 2.4 % of its CPU samples in allocation (BENCHMARKS.md, Zen 4).
func TestSerialProductsDoNotAllocate(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		m, n, k := 36, 64, 48
		a, b := randomOperands([2]uint64{5, 6}, m, n, k)
		c := make([]float32, m*n)
		var pb PackedB[float32]
		PackB(&pb, false, k, n, b, n)
		products := map[string]func(){
			"GemmSerial":       func() { GemmSerial(false, false, m, n, k, 1, a, k, b, n, 0, c, n) },
			"GemmPackedSerial": func() { GemmPackedSerial(false, m, n, k, 1, a, k, &pb, 1, c, n) },
		}
		for name, product := range products {
			product() // fills the pool
			if allocs := testing.AllocsPerRun(20, product); allocs != 0 {
				t.Errorf("%s: %.1f allocations per product, want none", name, allocs)
			}
		}
	})
}
