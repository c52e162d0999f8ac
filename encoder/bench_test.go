package encoder

import (
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"gorgonia.org/tensor"
)

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTrainStep measures one step of training (forward, backward and
// Adam) on random images, as bench/torch_train.py does in PyTorch, with
// width 32 and latent 128, on the matrix-product kernel in use
// (SIMSEARCH_GEMM_KERNEL=avx2 selects another, see package gemm). images/s counts training images (pairs, for
// contrastive); images/cpu-s the same per second of CPU time, which other
// work on the machine disturbs less.
func BenchmarkTrainStep(b *testing.B) {
	for _, objective := range Objectives {
		for _, res := range []int{32, 64} {
			for _, batch := range []int{64, 256} {
				b.Run(fmt.Sprintf("%s/res%d/batch%d", objective, res, batch), func(b *testing.B) {
					benchmarkTrainStep(b, objective, res, batch)
				})
			}
		}
	}
}

func benchmarkTrainStep(b *testing.B, objective Objective, res, batch int) {
	arch := Arch{Res: res, Width: 32, Latent: 128}
	w := newWeights(arch, objective, 8, tensor.Float32)
	rng := rand.New(rand.NewPCG(1, 1))
	w.init(rng)
	gr, err := buildStep(graphConfig{arch: arch, objective: objective, classes: 8, tau: 0.07, batch: batch}, w)
	if err != nil {
		b.Fatal(err)
	}
	defer gr.close()
	input := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(gr.inputShape()...))
	for i, in := 0, input.Data().([]float32); i < len(in); i++ {
		in[i] = rng.Float32()
	}
	var targets []float32
	if objective.Classifies() {
		targets = make([]float32, batch)
		for i := range targets {
			targets[i] = float32(rng.IntN(8))
		}
	}
	if err := gr.bind(input, targets); err != nil {
		b.Fatal(err)
	}
	solver := newAdam(2e-4)
	step := func() {
		if err := gr.run(); err != nil {
			b.Fatal(err)
		}
		if err := solver.Step(gr.gradients()); err != nil {
			b.Fatal(err)
		}
	}
	step() // allocate the buffers
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		step()
	}
	n := float64(batch * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(n/(cpuTime()-cpu).Seconds(), "images/cpu-s")
}

// BenchmarkEmbed measures embedding with an untrained network of width 32
// and latent 128, 256 images per call, 64 (the default) or 256 images per
// run of the network.
func BenchmarkEmbed(b *testing.B) {
	for _, res := range []int{32, 64} {
		for _, batch := range []int{DefaultEmbedBatch, 256} {
			b.Run(fmt.Sprintf("res%d/batch%d", res, batch), func(b *testing.B) {
				benchmarkEmbed(b, res, batch)
			})
		}
	}
}

func benchmarkEmbed(b *testing.B, res, batch int) {
	m, err := NewBaseline(BaselineOptions{Objective: Random, Res: res, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	images := make([]*image.RGBA, 256)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range images {
		images[i] = image.NewRGBA(image.Rect(0, 0, res, res))
		for j := range images[i].Pix {
			images[i].Pix[j] = uint8(rng.IntN(256))
		}
	}
	e := m.NewEmbedder(EmbedOptions{Batch: batch})
	if _, err := e.Embed(context.Background(), images); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), images); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(len(images) * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(n/(cpuTime()-cpu).Seconds(), "images/cpu-s")
}
