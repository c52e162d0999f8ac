package encoder

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winoCases are geometries the transform runs: channel counts below, at
// and off a multiple of 8 (the assembly's width), square and not.
var winoCases = []convGeom{
	{Batch: 2, InH: 4, InW: 4, InC: 8, OutC: 16, Kernel: 3, Stride: 1, Pad: 1},
	{Batch: 3, InH: 8, InW: 4, InC: 12, OutC: 20, Kernel: 3, Stride: 1, Pad: 1},
	{Batch: 1, InH: 6, InW: 8, InC: 3, OutC: 5, Kernel: 3, Stride: 1, Pad: 1},
	{Batch: 2, InH: 16, InW: 16, InC: 32, OutC: 12, Kernel: 3, Stride: 1, Pad: 1},
	// Sides of 4k+2 and of 4 run F(2×2, 3×3); the others F(4×4, 3×3).
	{Batch: 2, InH: 6, InW: 10, InC: 16, OutC: 24, Kernel: 3, Stride: 1, Pad: 1},
	{Batch: 2, InH: 8, InW: 12, InC: 20, OutC: 9, Kernel: 3, Stride: 1, Pad: 1},
	{Batch: 1, InH: 12, InW: 8, InC: 8, OutC: 16, Kernel: 3, Stride: 1, Pad: 1},
	// The encoder's strided convolutions, by F(2×2, 2×2).
	{Batch: 2, InH: 8, InW: 8, InC: 8, OutC: 16, Kernel: 4, Stride: 2, Pad: 1},
	{Batch: 3, InH: 8, InW: 12, InC: 12, OutC: 20, Kernel: 4, Stride: 2, Pad: 1},
	{Batch: 2, InH: 16, InW: 16, InC: 32, OutC: 24, Kernel: 4, Stride: 2, Pad: 1},
	// Outputs of 8 and more a side, multiples of 4, by F(4×4, 2×2).
	{Batch: 2, InH: 16, InW: 24, InC: 8, OutC: 16, Kernel: 4, Stride: 2, Pad: 1},
	{Batch: 1, InH: 32, InW: 16, InC: 12, OutC: 20, Kernel: 4, Stride: 2, Pad: 1},
	// Channel counts of 16 and more, where AVX-512 machines run the
	// transforms 16 channels at a time, with 8 and 4 left over: each kind
	// of transform once.
	{Batch: 2, InH: 6, InW: 6, InC: 24, OutC: 40, Kernel: 3, Stride: 1, Pad: 1},
	{Batch: 1, InH: 8, InW: 8, InC: 40, OutC: 28, Kernel: 3, Stride: 1, Pad: 1},
	{Batch: 2, InH: 8, InW: 8, InC: 28, OutC: 24, Kernel: 4, Stride: 2, Pad: 1},
	{Batch: 1, InH: 16, InW: 16, InC: 24, OutC: 44, Kernel: 4, Stride: 2, Pad: 1},
}

// convPasses runs the forward pass, the input gradient and the weight
// gradient of a convolution of g, by Winograd's transform or by tap
// classes.
func convPasses(t *testing.T, g convGeom, wino bool, x, w, b, dy []float32) (y, dx, dw []float32) {
	t.Helper()
	saved := useWinograd
	useWinograd = wino
	op := newConvOp("conv", g, false, true, true, &workspace{})
	useWinograd = saved
	if (op.wino != nil) != wino {
		t.Fatalf("%+v: Winograd's transform is %v, want %v", g, op.wino != nil, wino)
	}
	y = make([]float32, g.OutSize())
	dx = make([]float32, g.InSize())
	dw = make([]float32, g.OutC*g.K())
	for i := range y {
		y[i] = float32(math.NaN()) // every output must be written
	}
	for i := range dx {
		dx[i] = float32(math.NaN())
	}
	convForward(op, x, w, b, y)
	convInputGrad(op, dy, w, dx)
	convWeightGrad(op, x, dy, dw)
	return y, dx, dw
}

// TestWinogradMatchesDirect compares the three passes by Winograd's
// transform, in float32 with the assembly and without it, with the tap
// classes' direct sums, and the assembly with the Go loops bit for bit.
func TestWinogradMatchesDirect(t *testing.T) {
	const seed = 11
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	saved := chunkValues
	defer func() { chunkValues = saved }()
	for _, chunk := range []int{saved, 1 << 9} { // one block, and many
		chunkValues = chunk
		for _, g := range winoCases {
			t.Run(fmt.Sprintf("%dx%dx%d-%d/chunk%d", g.InH, g.InW, g.InC, g.OutC, chunk), func(t *testing.T) {
				want := 4
				switch {
				case g.Kernel == 3 && g.InH%4 == 0 && g.InW%4 == 0 && min(g.InH, g.InW) >= wino43MinRes:
					want = 6
				case g.Kernel == 4:
					want = 3
					if g.OutH()%4 == 0 && g.OutW()%4 == 0 && min(g.OutH(), g.OutW()) >= winograd42MinOut {
						want = 5
					}
				}
				if n := newWinoState(g).n; n != want {
					t.Fatalf("the transform's side is %d, want %d", n, want)
				}
				x := randomSlice32(rng, g.InSize(), 1)
				w := randomSlice32(rng, g.OutC*g.K(), 0.3)
				b := randomSlice32(rng, g.OutC, 0.3)
				dy := randomSlice32(rng, g.OutSize(), 1)
				y0, dx0, dw0 := convPasses(t, g, false, x, w, b, dy)
				y1, dx1, dw1 := convPasses(t, g, true, x, w, b, dy)
				winoAsm = false
				y2, dx2, dw2 := convPasses(t, g, true, x, w, b, dy)
				winoAsm = true
				for _, c := range []struct {
					name                  string
					direct, wino, goLoops []float32
				}{{"output", y0, y1, y2}, {"input gradient", dx0, dx1, dx2}, {"weight gradient", dw0, dw1, dw2}} {
					scale, worst := 0.0, 0.0
					for _, v := range c.direct {
						scale = max(scale, math.Abs(float64(v)))
					}
					for i := range c.direct {
						worst = max(worst, math.Abs(float64(c.wino[i]-c.direct[i]))/scale)
					}
					t.Logf("%s: largest difference %.1e of the scale", c.name, worst)
					for i := range c.direct {
						if d := math.Abs(float64(c.wino[i] - c.direct[i])); !(d <= 1e-5*scale) {
							t.Fatalf("%s[%d] = %v by the transform, %v directly (scale %v)", c.name, i, c.wino[i], c.direct[i], scale)
						}
						if math.Float32bits(c.wino[i]) != math.Float32bits(c.goLoops[i]) {
							t.Fatalf("%s[%d] = %v with the assembly, %v with the Go loops", c.name, i, c.wino[i], c.goLoops[i])
						}
					}
				}
			})
		}
	}
}

// TestWinogradImageAloneAsInBatch checks that an image's outputs do not
// depend on the batch it is in.
func TestWinogradImageAloneAsInBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 3))
	for _, g := range []convGeom{
		{Batch: 5, InH: 8, InW: 8, InC: 16, OutC: 24, Kernel: 3, Stride: 1, Pad: 1},  // F(4×4, 3×3)
		{Batch: 5, InH: 16, InW: 16, InC: 8, OutC: 16, Kernel: 4, Stride: 2, Pad: 1}, // F(4×4, 2×2)
	} {
		imageAloneAsInBatch(t, rng, g)
	}
}

func imageAloneAsInBatch(t *testing.T, rng *rand.Rand, g convGeom) {
	t.Helper()
	if newWinoState(g) == nil {
		t.Fatalf("%+v does not run Winograd's transform", g)
	}
	x := randomSlice32(rng, g.InSize(), 1)
	w := randomSlice32(rng, g.OutC*g.K(), 0.3)
	b := randomSlice32(rng, g.OutC, 0.3)
	batch := make([]float32, g.OutSize())
	convForward(newConvOp("conv", g, true, false, false, &workspace{}), x, w, b, batch)
	one := g
	one.Batch = 1
	per := g.InSize() / g.Batch
	alone := make([]float32, one.OutSize())
	convForward(newConvOp("conv", one, true, false, false, &workspace{}), x[3*per:4*per], w, b, alone)
	for i, v := range alone {
		if math.Float32bits(v) != math.Float32bits(batch[3*one.OutSize()+i]) {
			t.Fatalf("%+v: output %d of image 3 is %v alone, %v in the batch", g, i, v, batch[3*one.OutSize()+i])
		}
	}
}

func randomSlice32(rng *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = scale * (2*rng.Float32() - 1)
	}
	return s
}
