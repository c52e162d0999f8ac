package encoder

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// BenchmarkConvLayer times the three passes of each convolution of the
// 64 px autoencoder (width 32, latent 128), batch 256, on the path the
// layer takes (Winograd's transform or tap classes): where a training step
// goes, layer by layer; res32/ does the same for the 32 px one.
// GFLOP/s counts the direct convolution's multiply-adds (two flops each,
// padding taps excluded), so a transform that saves multiplications shows
// as a rate above the kernel's.
func BenchmarkConvLayer(b *testing.B) {
	for _, res := range []int{64, 32} {
		prefix := ""
		if res != 64 {
			prefix = fmt.Sprintf("res%d/", res)
		}
		encoder, decoder := Arch{Res: res, Width: 32, Latent: 128}.convs(256)
		geoms := append(encoder, decoder...)
		var names []string
		for i := range encoder {
			names = append(names, fmt.Sprintf("encoder%d", i))
		}
		for i := range decoder {
			names = append(names, fmt.Sprintf("decoder%d", i))
		}
		for i, g := range geoms {
			// The first layer's input is data: it has no input gradient.
			inputGrad := i > 0
			for _, pass := range []string{"forward", "inputgrad", "weightgrad"} {
				if pass == "inputgrad" && !inputGrad {
					continue
				}
				name := fmt.Sprintf("%s%s/%dpx/%d-%d/%s", prefix, names[i], g.InH, g.InC, g.OutC, pass)
				b.Run(name, func(b *testing.B) { benchmarkConvPass(b, g, inputGrad, pass) })
			}
		}
	}
}

func benchmarkConvPass(b *testing.B, g convGeom, inputGrad bool, pass string) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = rng.Float32() - 0.5
		}
		return v
	}
	x, w, bias, dy := fill(g.InSize()), fill(g.OutC*g.K()), fill(g.OutC), fill(g.OutSize())
	y, dx, dw := make([]float32, g.OutSize()), make([]float32, g.InSize()), make([]float32, g.OutC*g.K())
	op := newConvOp("conv", g, true, inputGrad, true, &workspace{})
	run := func() {
		switch pass {
		case "forward":
			convForward(op, x, w, bias, y)
		case "inputgrad":
			convInputGrad(op, dy, w, dx)
		case "weightgrad":
			convWeightGrad(op, x, dy, dw)
		}
	}
	convForward(op, x, w, bias, y) // the forward pass keeps what the gradients read
	run()
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	macs := 0
	for oy := range g.OutH() {
		for ox := range g.OutW() {
			for ky := range g.Kernel {
				for kx := range g.Kernel {
					iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
					if iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW {
						macs++
					}
				}
			}
		}
	}
	flops := 2 * float64(macs) * float64(g.Batch*g.InC*g.OutC)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/pass")
}

// BenchmarkDepthToSpace times the rearrangement after each convolution of
// the 64 px autoencoder's decoder, batch 256, both ways (forward, and its
// inverse in the backward pass), on every core as the op runs it.
func BenchmarkDepthToSpace(b *testing.B) {
	_, decoder := Arch{Res: 64, Width: 32, Latent: 128}.convs(256)
	for _, g := range decoder {
		for _, inverse := range []bool{false, true} {
			name := fmt.Sprintf("%dpx/%dch/forward", 2*g.OutH(), g.OutC/4)
			if inverse {
				name = fmt.Sprintf("%dpx/%dch/inverse", 2*g.OutH(), g.OutC/4)
			}
			b.Run(name, func(b *testing.B) {
				op := newDepthToSpaceOp("d2s", g.Batch, g.OutH(), g.OutW(), g.OutC/4, inverse)
				in := tensor.New(tensor.WithShape(g.Batch, g.OutH(), g.OutW(), g.OutC), tensor.WithBacking(make([]float32, g.OutSize())))
				if inverse {
					in = tensor.New(tensor.WithShape(g.Batch, 2*g.OutH(), 2*g.OutW(), g.OutC/4), tensor.WithBacking(make([]float32, g.OutSize())))
				}
				b.SetBytes(int64(8 * g.OutSize()))
				for b.Loop() {
					if _, err := op.Do(in); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/pass")
			})
		}
	}
}
