package encoder

import (
	"fmt"
	"math/rand/v2"
	"testing"
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
		arch := Arch{Res: res, Width: 32, Latent: 128}
		const batch = 256
		ch := arch.Channels()
		var geoms []convGeom
		var names []string
		size := arch.Res
		for i := 0; i+1 < len(ch); i++ {
			geoms = append(geoms, convGeom{Batch: batch, InH: size, InW: size, InC: ch[i], OutC: ch[i+1], Kernel: 4, Stride: 2, Pad: 1})
			names = append(names, fmt.Sprintf("encoder%d", i))
			size /= 2
		}
		size = 1
		for i, level := 0, len(ch)-1; level > 0; i, level = i+1, level-1 {
			geoms = append(geoms, convGeom{Batch: batch, InH: size, InW: size, InC: ch[level], OutC: 4 * ch[level-1], Kernel: 3, Stride: 1, Pad: 1})
			names = append(names, fmt.Sprintf("decoder%d", i))
			size *= 2
		}
		for i, g := range geoms {
			for _, pass := range []string{"forward", "inputgrad", "weightgrad"} {
				name := fmt.Sprintf("%s%s/%dpx/%d-%d/%s", prefix, names[i], g.InH, g.InC, g.OutC, pass)
				b.Run(name, func(b *testing.B) { benchmarkConvPass(b, g, pass) })
			}
		}
	}
}

func benchmarkConvPass(b *testing.B, g convGeom, pass string) {
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
	op := newConvOp("conv", g, true, true, true, &workspace{})
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
