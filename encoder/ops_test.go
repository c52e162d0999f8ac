package encoder

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// runCost builds a graph with build, runs it once and returns the cost.
func runCost(t *testing.T, build func(g *G.ExprGraph) *G.Node) float64 {
	t.Helper()
	g := G.NewGraph()
	cost := build(g)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return scalarOf(cost.Value())
}

func constant(g *G.ExprGraph, name string, shape tensor.Shape, data []float64) *G.Node {
	return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))))
}

// TestInfoNCEByHand checks the contrastive loss on three pairs of 2-D
// vectors, given unnormalized: x = (2,0), (0,3), (0.3,0.4) and x⁺ = (1,0),
// (1.2,1.6), (0,0.5), so that the normalized similarities are
// [[1, 0.6, 0], [0, 0.8, 1], [0.6, 1, 0.8]]. With τ = 0.5 the loss is
// the mean over rows of log Σ exp(row/τ) − diagonal/τ.
func TestInfoNCEByHand(t *testing.T) {
	const want = 0.8675155521659494
	got := runCost(t, func(g *G.ExprGraph) *G.Node {
		z := constant(g, "z", tensor.Shape{6, 1, 1, 2}, []float64{2, 0, 0, 3, 0.3, 0.4, 1, 0, 1.2, 1.6, 0, 0.5})
		y := apply(newL2NormalizeOp("normalize", z.Shape()), z)
		logits := apply(&pairLogitsOp{opBase: newOpBase("logits"), n: 3, dim: 2, tau: 0.5, inDims: 4}, y)
		targets := constant(g, "targets", tensor.Shape{3}, []float64{0, 1, 2})
		return apply(&crossEntropyOp{opBase: newOpBase("ce"), rows: 3, classes: 3, logitDims: 2}, logits, targets)
	})
	if math.Abs(got-want) > 1e-12 {
		t.Fatalf("InfoNCE = %.15g, want %.15g", got, want)
	}
}

// TestMSEKnownPair: (0−0)², (0.5−1)², (1−1)², (1−0)² average to 0.3125.
func TestMSEKnownPair(t *testing.T) {
	got := runCost(t, func(g *G.ExprGraph) *G.Node {
		pred := constant(g, "pred", tensor.Shape{1, 2, 2, 1}, []float64{0, 0.5, 1, 1})
		target := constant(g, "target", tensor.Shape{1, 2, 2, 1}, []float64{0, 1, 1, 0})
		return apply(&mseOp{opBase: newOpBase("mse"), shape: pred.Shape().Clone()}, pred, target)
	})
	if math.Abs(got-0.3125) > 1e-15 {
		t.Fatalf("MSE = %v, want 0.3125", got)
	}
}

// TestConvolutionMatchesDefinition compares the im2col convolution with the
// sum that defines it, over several geometries.
func TestConvolutionMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, geom := range []convGeom{
		{Batch: 2, InH: 8, InW: 8, InC: 3, OutC: 5, Kernel: 4, Stride: 2, Pad: 1},
		{Batch: 1, InH: 5, InW: 7, InC: 2, OutC: 3, Kernel: 4, Stride: 2, Pad: 1},
		{Batch: 3, InH: 4, InW: 4, InC: 4, OutC: 8, Kernel: 3, Stride: 1, Pad: 1},
		{Batch: 2, InH: 1, InW: 1, InC: 6, OutC: 3, Kernel: 1, Stride: 1},
		{Batch: 2, InH: 1, InW: 1, InC: 3, OutC: 8, Kernel: 3, Stride: 1, Pad: 1},
		{Batch: 2, InH: 2, InW: 2, InC: 3, OutC: 4, Kernel: 4, Stride: 2, Pad: 1},
		{Batch: 1, InH: 2, InW: 3, InC: 2, OutC: 3, Kernel: 3, Stride: 1, Pad: 1},
		{Batch: 2, InH: 6, InW: 6, InC: 2, OutC: 2, Kernel: 3, Stride: 2, Pad: 2},
	} {
		x := randomSlice(rng, geom.InSize())
		w := randomSlice(rng, geom.OutC*geom.K())
		b := randomSlice(rng, geom.OutC)
		y := make([]float64, geom.OutSize())
		op := newConvOp("conv", geom, false, false, false, &workspace{})
		for i := range y {
			y[i] = math.NaN() // every output must be written
		}
		convForward(op, x, w, b, y)
		oh, ow := geom.OutH(), geom.OutW()
		for n := range geom.Batch {
			for oy := range oh {
				for ox := range ow {
					for co := range geom.OutC {
						sum := b[co]
						for ky := range geom.Kernel {
							for kx := range geom.Kernel {
								iy, ix := oy*geom.Stride-geom.Pad+ky, ox*geom.Stride-geom.Pad+kx
								if iy < 0 || iy >= geom.InH || ix < 0 || ix >= geom.InW {
									continue
								}
								for ci := range geom.InC {
									// PyTorch's weight[co][ci][ky][kx], stored here as
									// row co, column (ky, kx, ci).
									sum += x[((n*geom.InH+iy)*geom.InW+ix)*geom.InC+ci] * w[co*geom.K()+(ky*geom.Kernel+kx)*geom.InC+ci]
								}
							}
						}
						got := y[((n*oh+oy)*ow+ox)*geom.OutC+co]
						if math.Abs(got-sum) > 1e-12 {
							t.Fatalf("%+v: y[%d,%d,%d,%d] = %v, want %v", geom, n, oy, ox, co, got, sum)
						}
					}
				}
			}
		}
	}
}

// TestDepthToSpaceMatchesPixelShuffle checks the rearrangement against the
// definition of PyTorch's pixel_shuffle, and that the inverse undoes it.
func TestDepthToSpaceMatchesPixelShuffle(t *testing.T) {
	const batch, h, w, c = 2, 3, 2, 3
	in := make([]float64, batch*h*w*4*c)
	for i := range in {
		in[i] = float64(i)
	}
	out := make([]float64, len(in))
	depthToSpace(batch, h, w, c, in, out, false)
	for n := range batch {
		for y := range 2 * h {
			for x := range 2 * w {
				for ch := range c {
					// NCHW: out[n][ch][y][x] = in[n][4·ch + 2·(y%2) + x%2][y/2][x/2].
					want := in[((n*h+y/2)*w+x/2)*4*c+4*ch+2*(y%2)+x%2]
					if got := out[((n*2*h+y)*2*w+x)*c+ch]; got != want {
						t.Fatalf("out[%d,%d,%d,%d] = %v, want %v", n, y, x, ch, got, want)
					}
				}
			}
		}
	}
	back := make([]float64, len(in))
	depthToSpace(batch, h, w, c, out, back, true)
	for i := range in {
		if back[i] != in[i] {
			t.Fatalf("space-to-depth of depth-to-space differs at %d: %v, want %v", i, back[i], in[i])
		}
	}
}

func randomSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 2*rng.Float64() - 1
	}
	return s
}

// TestTapClassesCoverTheOutput checks that the tap classes of several
// geometries hold every output position once, with exactly the taps whose
// input position is inside the image.
func TestTapClassesCoverTheOutput(t *testing.T) {
	for _, g := range []convGeom{
		{Batch: 1, InH: 32, InW: 32, InC: 1, Kernel: 4, Stride: 2, Pad: 1},
		{Batch: 1, InH: 2, InW: 2, InC: 1, Kernel: 4, Stride: 2, Pad: 1},
		{Batch: 1, InH: 1, InW: 1, InC: 1, Kernel: 3, Stride: 1, Pad: 1},
		{Batch: 1, InH: 5, InW: 7, InC: 1, Kernel: 3, Stride: 1, Pad: 1},
		{Batch: 1, InH: 6, InW: 6, InC: 1, Kernel: 3, Stride: 2, Pad: 2},
	} {
		seen := make([]int, g.OutH()*g.OutW())
		for _, c := range g.classes() {
			for oy := c.y.o0; oy < c.y.o1; oy++ {
				for ox := c.x.o0; ox < c.x.o1; ox++ {
					seen[oy*g.OutW()+ox]++
					for ky := range g.Kernel {
						for kx := range g.Kernel {
							iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
							inside := iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW
							inClass := ky >= c.y.k0 && ky < c.y.k1 && kx >= c.x.k0 && kx < c.x.k1
							if inside != inClass {
								t.Fatalf("%+v: output (%d,%d), tap (%d,%d): inside the image %v, in the class %v", g, oy, ox, ky, kx, inside, inClass)
							}
						}
					}
				}
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("%+v: output position %d is in %d classes", g, i, n)
			}
		}
	}
}
