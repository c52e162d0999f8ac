package encoder

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func BenchmarkStepScratch(b *testing.B) {
	for _, objective := range []Objective{Contrastive, Autoencoder} {
		for _, res := range []int{32, 64} {
			for _, batch := range []int{64} {
				b.Run(fmt.Sprintf("%s/res%d/batch%d", objective, res, batch), func(b *testing.B) {
					arch := Arch{Res: res, Width: 32, Latent: 128}
					w := newWeights(arch, objective, 0, tensor.Float32)
					rng := rand.New(rand.NewPCG(1, 1))
					w.init(rng)
					gr, err := buildGraph(graphConfig{arch: arch, objective: objective, tau: 0.07, batch: batch}, w)
					if err != nil {
						b.Fatal(err)
					}
					in := gr.input.Value().Data().([]float32)
					for i := range in {
						in[i] = rng.Float32()
					}
					var solver G.Solver = newAdam(2e-4)
					vg := G.NodesToValueGrads(gr.params)
					b.ReportAllocs()
					cpu := cpuTime()
					for b.Loop() {
						if err := gr.run(); err != nil {
							b.Fatal(err)
						}
						if err := solver.Step(vg); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "items/s")
					b.ReportMetric(float64(batch*b.N)/(cpuTime()-cpu).Seconds(), "items/cpu-s")
				})
			}
		}
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
