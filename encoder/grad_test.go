package encoder

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"simsearch/encoder/internal/gemm"
)

// gradCheck compares the gradient gorgonia computes through a graph with
// central finite differences of the cost, for every element of every node
// in wrt (float64 inputs or parameters). The graph's cost must already be
// differentiated with respect to wrt.
func gradCheck(t *testing.T, vm G.VM, cost *G.Node, wrt G.Nodes, tol float64) {
	t.Helper()
	run := func() float64 {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatalf("run: %v", err)
		}
		return scalarOf(cost.Value())
	}
	run()
	analytic := make([][]float64, len(wrt))
	for i, n := range wrt {
		g, err := n.Grad()
		if err != nil {
			t.Fatalf("gradient of %s: %v", n.Name(), err)
		}
		analytic[i] = append([]float64(nil), g.Data().([]float64)...)
	}
	const h = 1e-6
	for i, n := range wrt {
		x := n.Value().Data().([]float64)
		for j := range x {
			old := x[j]
			x[j] = old + h
			up := run()
			x[j] = old - h
			down := run()
			x[j] = old
			numeric := (up - down) / (2 * h)
			a := analytic[i][j]
			if math.Abs(a-numeric) > tol*math.Max(1, math.Max(math.Abs(a), math.Abs(numeric))) {
				t.Errorf("d cost / d %s[%d] = %.8g, finite differences give %.8g", n.Name(), j, a, numeric)
			}
		}
	}
}

// randomNode adds a float64 input of shape with values uniform in ±scale.
func randomNode(g *G.ExprGraph, rng *rand.Rand, name string, scale float64, shape ...int) *G.Node {
	data := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range data {
		data[i] = scale * (2*rng.Float64() - 1)
	}
	return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))))
}

func TestGradients(t *testing.T) {
	const seed = 7
	t.Logf("seed %d", seed)
	for _, tc := range []struct {
		name  string
		build func(g *G.ExprGraph, rng *rand.Rand) (cost *G.Node, wrt G.Nodes)
	}{
		{"strided convolution", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 2, InH: 6, InW: 6, InC: 3, OutC: 4, Kernel: 4, Stride: 2, Pad: 1}
			return convCase(g, rng, geom, false)
		}},
		{"strided convolution with ReLU, odd size", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 2, InH: 5, InW: 5, InC: 2, OutC: 3, Kernel: 4, Stride: 2, Pad: 1}
			return convCase(g, rng, geom, true)
		}},
		{"fully connected layer", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 3, InH: 1, InW: 1, InC: 5, OutC: 4, Kernel: 1, Stride: 1}
			return convCase(g, rng, geom, false)
		}},
		{"depth-to-space decoder block", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 2, InH: 3, InW: 3, InC: 3, OutC: 4 * 2, Kernel: 3, Stride: 1, Pad: 1}
			x := randomNode(g, rng, "x", 1, 2, 3, 3, 3)
			w := randomNode(g, rng, "w", 0.5, geom.OutC, geom.K())
			b := randomNode(g, rng, "b", 0.5, geom.OutC)
			y := apply(newConvOp("conv", geom, true, true, true, &workspace{}), x, w, b)
			y = apply(newDepthToSpaceOp("d2s", 2, 3, 3, 2, false), y)
			target := randomNode(g, rng, "target", 1, 2, 6, 6, 2)
			cost := apply(&mseOp{opBase: newOpBase("mse"), shape: y.Shape().Clone()}, y, target)
			return cost, G.Nodes{x, w, b}
		}},
		{"3×3 convolution by Winograd's transform", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 2, InH: 4, InW: 6, InC: 3, OutC: 5, Kernel: 3, Stride: 1, Pad: 1}
			if !winogradFits(geom) {
				t.Fatal("the case does not run Winograd's transform")
			}
			return convCase(g, rng, geom, false)
		}},
		{"3×3 convolution by Winograd's transform, with ReLU", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 1, InH: 6, InW: 4, InC: 2, OutC: 4, Kernel: 3, Stride: 1, Pad: 1}
			return convCase(g, rng, geom, true)
		}},
		{"3×3 convolution by F(4×4, 3×3), with ReLU", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 1, InH: 8, InW: 12, InC: 3, OutC: 2, Kernel: 3, Stride: 1, Pad: 1}
			if !winogradFits(geom) || !wino43Fits(geom) {
				t.Fatal("the case does not run F(4×4, 3×3)")
			}
			return convCase(g, rng, geom, true)
		}},
		{"strided convolution by Winograd's transform", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 2, InH: 8, InW: 8, InC: 8, OutC: 3, Kernel: 4, Stride: 2, Pad: 1}
			if !winograd22Fits(geom) {
				t.Fatal("the case does not run Winograd's transform")
			}
			return convCase(g, rng, geom, true)
		}},
		{"strided convolution by F(4×4, 2×2)", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			geom := convGeom{Batch: 1, InH: 16, InW: 16, InC: 8, OutC: 2, Kernel: 4, Stride: 2, Pad: 1}
			if !winograd22Fits(geom) || !winograd42Fits(geom) {
				t.Fatal("the case does not run F(4×4, 2×2)")
			}
			return convCase(g, rng, geom, true)
		}},
		{"the first layer by the stem, with ReLU", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			return stemGradientCase(t, g, rng)
		}},
		{"normalize, similarity, temperature, cross-entropy", func(g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
			const n, dim = 3, 4
			z := randomNode(g, rng, "z", 1, 2*n, 1, 1, dim)
			y := apply(newL2NormalizeOp("normalize", z.Shape()), z)
			logits := apply(&pairLogitsOp{opBase: newOpBase("logits"), n: n, dim: dim, tau: 0.5, inDims: 4}, y)
			targets := G.NewVector(g, tensor.Float64, G.WithShape(n), G.WithName("targets"),
				G.WithValue(tensor.New(tensor.WithShape(n), tensor.WithBacking([]float64{0, 1, 2}))))
			cost := apply(&crossEntropyOp{opBase: newOpBase("ce"), rows: n, classes: n, logitDims: 2}, logits, targets)
			return cost, G.Nodes{z}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			g := G.NewGraph()
			cost, wrt := tc.build(g, rng)
			if _, err := G.Grad(cost, wrt...); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			gradCheck(t, vm, cost, wrt, 1e-6)
		})
	}
}

// convCase is a convolution of random input and weights whose output is
// compared with a random target by the mean squared error.
func convCase(g *G.ExprGraph, rng *rand.Rand, geom convGeom, relu bool) (*G.Node, G.Nodes) {
	x := randomNode(g, rng, "x", 1, geom.Batch, geom.InH, geom.InW, geom.InC)
	w := randomNode(g, rng, "w", 0.5, geom.OutC, geom.K())
	b := randomNode(g, rng, "b", 0.5, geom.OutC)
	y := apply(newConvOp("conv", geom, relu, true, true, &workspace{}), x, w, b)
	target := randomNode(g, rng, "target", 1, y.Shape()...)
	return apply(&mseOp{opBase: newOpBase("mse"), shape: y.Shape().Clone()}, y, target), G.Nodes{x, w, b}
}

// TestWholeNetworkGradients checks the gradient of every parameter of tiny
// networks for each objective.
func TestWholeNetworkGradients(t *testing.T) {
	const seed = 11
	t.Logf("seed %d", seed)
	arch := Arch{Res: 8, Width: 2, Latent: 3}
	for _, objective := range Objectives {
		t.Run(string(objective), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 2))
			w := newWeights(arch, objective, 3, tensor.Float64)
			w.init(rng)
			gr, err := buildGraph(graphConfig{arch: arch, objective: objective, classes: 3, tau: 0.5, batch: 3}, w)
			if err != nil {
				t.Fatal(err)
			}
			defer gr.close()
			for i, v := range gr.input.Value().Data().([]float64) {
				v = rng.Float64()
				gr.input.Value().Data().([]float64)[i] = v
			}
			if objective == Supervised {
				copy(gr.targets.Value().Data().([]float64), []float64{2, 0, 1})
			}
			gradCheck(t, gr.vm, gr.cost, gr.params, 1e-5)
		})
	}
}

// eachKernel runs f once with each float32 matrix-product kernel this
// machine has selected, as a subtest named after it.
func eachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer func(old string) {
		if err := gemm.UseKernel(old); err != nil {
			t.Fatal(err)
		}
	}(gemm.Kernel())
	for _, name := range gemm.Kernels() {
		if err := gemm.UseKernel(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

// TestFloat32GradientsOnEachKernel checks the gradients that each float32
// kernel computes through whole networks against the float64 gradients
// (which run on the portable kernel and which TestWholeNetworkGradients
// checks with finite differences). The network is large enough that its
// products have whole tiles of every kernel as well as edge tiles.
func TestFloat32GradientsOnEachKernel(t *testing.T) {
	const seed = 13
	t.Logf("seed %d", seed)
	arch := Arch{Res: 16, Width: 8, Latent: 16}
	const batch, classes = 7, 3
	gradients := func(t *testing.T, objective Objective, dt tensor.Dtype) [][]float64 {
		rng := rand.New(rand.NewPCG(seed, 3))
		w := newWeights(arch, objective, classes, dt)
		w.init(rng)
		gr, err := buildGraph(graphConfig{arch: arch, objective: objective, classes: classes, tau: 0.5, batch: batch}, w)
		if err != nil {
			t.Fatal(err)
		}
		defer gr.close()
		input := gr.input.Value()
		for i := range input.Shape().TotalSize() {
			setFloat(input, i, rng.Float64())
		}
		if objective == Supervised {
			for i := range batch {
				setFloat(gr.targets.Value(), i, float64(i%classes))
			}
		}
		if err := gr.run(); err != nil {
			t.Fatal(err)
		}
		var out [][]float64
		for _, p := range gr.params {
			g, err := p.Grad()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, floats(g))
		}
		return out
	}
	for _, objective := range Objectives {
		t.Run(string(objective), func(t *testing.T) {
			want := gradients(t, objective, tensor.Float64)
			eachKernel(t, func(t *testing.T) {
				got := gradients(t, objective, tensor.Float32)
				// Cutting the batch into blocks of one image does not
				// change a bit.
				defer func(old int) { chunkValues = old }(chunkValues)
				chunkValues = 1
				for i, g := range gradients(t, objective, tensor.Float32) {
					for j := range g {
						if g[j] != got[i][j] {
							t.Fatalf("parameter %d, gradient[%d] = %v one image at a time, %v at once", i, j, g[j], got[i][j])
						}
					}
				}
				for i := range want {
					var scale float64
					for _, v := range want[i] {
						scale = math.Max(scale, math.Abs(v))
					}
					for j, v := range got[i] {
						if math.Abs(v-want[i][j]) > 1e-4*scale+1e-7 {
							t.Fatalf("parameter %d, gradient[%d] = %.7g in float32, %.7g in float64", i, j, v, want[i][j])
						}
					}
				}
			})
		})
	}
}

// setFloat sets element i of a float32 or float64 value.
func setFloat(v G.Value, i int, x float64) {
	switch d := v.Data().(type) {
	case []float32:
		d[i] = float32(x)
	case []float64:
		d[i] = x
	}
}

// floats returns the elements of a float32 or float64 value as float64.
func floats(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	panic("encoder: not a float tensor")
}
