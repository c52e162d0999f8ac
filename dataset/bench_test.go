package dataset

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// Run with: go test ./dataset -run '^$' -bench . -benchtime 2s

// BenchmarkRender measures drawing one item, without encoding.
func BenchmarkRender(b *testing.B) {
	for _, res := range []int{32, 64} {
		b.Run(fmt.Sprintf("res=%d", res), func(b *testing.B) {
			spec := Spec{N: 1 << 20, Seed: 1, Res: res}
			img := image.NewRGBA(image.Rect(0, 0, res, res))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				RenderInto(img, spec.Factors(i%spec.N))
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkEncodePNG compares zlib levels on generated items, reporting the
// mean file size: the reason WriteFolder uses BestSpeed.
func BenchmarkEncodePNG(b *testing.B) {
	spec := Spec{N: 256, Seed: 1, Res: 64}
	images := make([]*image.RGBA, spec.N)
	for i := range images {
		images[i] = spec.Image(i)
	}
	for _, level := range []struct {
		name  string
		level png.CompressionLevel
	}{{"none", png.NoCompression}, {"speed", png.BestSpeed}, {"default", png.DefaultCompression}} {
		b.Run("level="+level.name, func(b *testing.B) {
			enc := &png.Encoder{CompressionLevel: level.level, BufferPool: &pngBuffers{}}
			var buf bytes.Buffer
			total := 0
			i := 0
			for b.Loop() {
				buf.Reset()
				if err := enc.Encode(&buf, images[i%len(images)]); err != nil {
					b.Fatal(err)
				}
				total += buf.Len()
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric(float64(total)/float64(b.N), "bytes/image")
		})
	}
}

// BenchmarkGenerate measures the CPU work of generation at 64 px on all
// cores, as WriteFolder does it but without the files: factors, rendering
// and PNG encoding.
func BenchmarkGenerate(b *testing.B) {
	spec := Spec{N: 1 << 30, Seed: 1, Res: 64}
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		img := image.NewRGBA(image.Rect(0, 0, spec.Res, spec.Res))
		var buf bytes.Buffer
		for pb.Next() {
			RenderInto(img, spec.Factors(int(next.Add(1))))
			buf.Reset()
			if err := pngEncoder.Encode(&buf, img); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkWriteFolder measures the whole of generation at 64 px on all
// cores: rendering, PNG encoding, files and factors.csv. Creating files
// dominates on slow file systems; compare with BenchmarkGenerate.
func BenchmarkWriteFolder(b *testing.B) {
	spec := Spec{N: 4000, Seed: 1, Res: 64, ValFrac: 0.375}
	for b.Loop() {
		dir := b.TempDir()
		if err := WriteFolder(context.Background(), dir, spec, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*spec.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkApply measures one augmented view, as training makes one per
// sample per step.
func BenchmarkApply(b *testing.B) {
	for _, res := range []int{32, 64} {
		src := Spec{N: 1, Seed: 1, Res: res}.Image(0)
		for _, name := range []string{"A", "B", "C"} {
			a, err := ParseAugmentation(name)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/res=%d/Apply", name, res), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 1))
				b.ReportAllocs()
				for b.Loop() {
					a.Apply(src, rng)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
			})
			b.Run(fmt.Sprintf("%s/res=%d/ApplyInto", name, res), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 1))
				dst := image.NewRGBA(src.Rect)
				p := a.(*Pipeline)
				b.ReportAllocs()
				for b.Loop() {
					p.ApplyInto(dst, src, rng)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
