package encoder

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
)

// stemCases are first layers the stem runs: grey, RGB and four channels,
// square and not, at the smallest output it takes and at the models'.
var stemCases = []convGeom{
	{Batch: 2, InH: 16, InW: 16, InC: 3, OutC: 8, Kernel: 4, Stride: 2, Pad: 1},
	{Batch: 3, InH: 32, InW: 16, InC: 1, OutC: 5, Kernel: 4, Stride: 2, Pad: 1},
	{Batch: 2, InH: 20, InW: 24, InC: 4, OutC: 7, Kernel: 4, Stride: 2, Pad: 1},
	{Batch: 2, InH: 64, InW: 64, InC: 3, OutC: 32, Kernel: 4, Stride: 2, Pad: 1},
}

// stemPasses runs the forward pass (bias and ReLU included) and the weight
// gradient of a first layer of g, by the stem or by tap classes.
func stemPasses[T float](t *testing.T, g convGeom, stem bool, x, w, b, dy []T) (y, dw []T) {
	t.Helper()
	defer func(old bool) { useStem = old }(useStem)
	useStem = stem
	op := newConvOp("conv", g, true, false, true, &workspace{})
	if op.stem != stem {
		t.Fatalf("%+v: the stem is %v, want %v", g, op.stem, stem)
	}
	y = make([]T, g.OutSize())
	dw = make([]T, g.OutC*g.K())
	for i := range y {
		y[i] = T(math.NaN()) // every output must be written
	}
	for i := range dw {
		dw[i] = T(math.NaN())
	}
	convForward(op, x, w, b, y)
	convWeightGrad(op, x, dy, dw)
	return y, dw
}

// TestStemMatchesTapClasses compares the stem's two passes with the tap
// classes', in float32 and float64.
func TestStemMatchesTapClasses(t *testing.T) {
	const seed = 21
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	for _, g := range stemCases {
		t.Run(fmt.Sprintf("%dx%dx%d-%d", g.InH, g.InW, g.InC, g.OutC), func(t *testing.T) {
			x := randomSlice32(rng, g.InSize(), 1)
			w := randomSlice32(rng, g.OutC*g.K(), 0.3)
			b := randomSlice32(rng, g.OutC, 0.3)
			dy := randomSlice32(rng, g.OutSize(), 1)
			y0, dw0 := stemPasses(t, g, false, x, w, b, dy)
			y1, dw1 := stemPasses(t, g, true, x, w, b, dy)
			compareClose(t, "float32 output", y0, y1, 1e-6)
			compareClose(t, "float32 weight gradient", dw0, dw1, 1e-5)
			y064, dw064 := stemPasses(t, g, false, to64(x), to64(w), to64(b), to64(dy))
			y164, dw164 := stemPasses(t, g, true, to64(x), to64(w), to64(b), to64(dy))
			compareClose(t, "float64 output", y064, y164, 1e-13)
			compareClose(t, "float64 weight gradient", dw064, dw164, 1e-13)
		})
	}
}

// compareClose fails unless got is within tol of want, relative to want's
// largest value.
func compareClose[T float](t *testing.T, name string, want, got []T, tol float64) {
	t.Helper()
	scale, worst := 0.0, 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		d := math.Abs(float64(got[i] - want[i]))
		if !(d <= tol*scale) {
			t.Fatalf("%s[%d] = %v, want %v (scale %v)", name, i, got[i], want[i], scale)
		}
		worst = max(worst, d/scale)
	}
	t.Logf("%s: largest difference %.1e of the scale", name, worst)
}

func to64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// TestStemImageAloneAsInBatch checks that an image's outputs through the
// stem do not depend on its batch, and that the weight gradient does not
// depend on the number of goroutines.
func TestStemImageAloneAsInBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 3))
	g := convGeom{Batch: 5, InH: 32, InW: 32, InC: 3, OutC: 16, Kernel: 4, Stride: 2, Pad: 1}
	x := randomSlice32(rng, g.InSize(), 1)
	w := randomSlice32(rng, g.OutC*g.K(), 0.3)
	b := randomSlice32(rng, g.OutC, 0.3)
	dy := randomSlice32(rng, g.OutSize(), 1)
	batch, dw := stemPasses(t, g, true, x, w, b, dy)
	one := g
	one.Batch = 1
	per := g.InSize() / g.Batch
	alone, _ := stemPasses(t, one, true, x[3*per:4*per], w, b, dy[:one.OutSize()])
	for i, v := range alone {
		if math.Float32bits(v) != math.Float32bits(batch[3*one.OutSize()+i]) {
			t.Fatalf("output %d of image 3 is %v alone, %v in the batch", i, v, batch[3*one.OutSize()+i])
		}
	}
	for _, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		_, got := stemPasses(t, g, true, x, w, b, dy)
		runtime.GOMAXPROCS(old)
		for i := range dw {
			if math.Float32bits(got[i]) != math.Float32bits(dw[i]) {
				t.Fatalf("GOMAXPROCS %d: weight gradient[%d] = %v, with %d %v", procs, i, got[i], old, dw[i])
			}
		}
	}
}

// TestStemRunsTheFirstLayer checks which layers the stem takes: the
// models' first, not a layer whose input needs a gradient, nor one too
// small or with too many channels.
func TestStemRunsTheFirstLayer(t *testing.T) {
	for _, res := range []int{32, 64} {
		encoder, _ := Arch{Res: res, Width: 32, Latent: 128}.convs(2)
		for i, g := range encoder {
			if got := stemFits(g, i > 0); got != (i == 0) {
				t.Errorf("%d px, layer %d: stemFits = %v", res, i, got)
			}
		}
	}
	first := convGeom{Batch: 1, InH: 16, InW: 16, InC: 3, OutC: 8, Kernel: 4, Stride: 2, Pad: 1}
	for _, c := range []struct {
		name string
		g    convGeom
	}{
		{"14 px", convGeom{Batch: 1, InH: 14, InW: 14, InC: 3, OutC: 8, Kernel: 4, Stride: 2, Pad: 1}},
		{"odd side", convGeom{Batch: 1, InH: 17, InW: 16, InC: 3, OutC: 8, Kernel: 4, Stride: 2, Pad: 1}},
		{"8 channels", convGeom{Batch: 1, InH: 16, InW: 16, InC: 8, OutC: 8, Kernel: 4, Stride: 2, Pad: 1}},
		{"3×3", convGeom{Batch: 1, InH: 16, InW: 16, InC: 3, OutC: 8, Kernel: 3, Stride: 1, Pad: 1}},
	} {
		if stemFits(c.g, false) {
			t.Errorf("%s: stemFits", c.name)
		}
	}
	if !stemFits(first, false) || stemFits(first, true) {
		t.Errorf("16 px RGB: stemFits without input gradient %v, with %v", stemFits(first, false), stemFits(first, true))
	}
}

// stemGradientCase is a first layer run by the stem, with ReLU, whose
// output is compared with a random target: finite differences check its
// weight and bias gradients.
func stemGradientCase(t *testing.T, g *G.ExprGraph, rng *rand.Rand) (*G.Node, G.Nodes) {
	geom := convGeom{Batch: 2, InH: 16, InW: 18, InC: 3, OutC: 3, Kernel: 4, Stride: 2, Pad: 1}
	if !stemFits(geom, false) {
		t.Fatal("the case does not run the stem")
	}
	x := randomNode(g, rng, "x", 1, geom.Batch, geom.InH, geom.InW, geom.InC)
	w := randomNode(g, rng, "w", 0.5, geom.OutC, geom.K())
	b := randomNode(g, rng, "b", 0.5, geom.OutC)
	y := apply(newConvOp("conv", geom, true, false, true, &workspace{}), x, w, b)
	target := randomNode(g, rng, "target", 1, y.Shape()...)
	return apply(&mseOp{opBase: newOpBase("mse"), shape: y.Shape().Clone()}, y, target), G.Nodes{w, b}
}
