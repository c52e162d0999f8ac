package ingest

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
)

// BenchmarkIngest measures end-to-end ingestion next to the encoder's own
// embedding speed on the same images, in the same iterations: the encoder
// is an untrained network of the default architecture (width 32, latent
// 128), as in encoder's BenchmarkEmbed. The source is a generator spec
// (rendered in memory) or a dataset folder (PNG files). Metrics:
// embed-images/s is Embedder.Embed alone on the decoded images;
// pipeline-images/s is Run without the graph build; images/s is all of
// Run, graph included; overhead-% is how much longer the pipeline takes
// than embedding alone.
func BenchmarkIngest(b *testing.B) {
	for _, c := range []struct {
		res, n int
	}{{32, 2048}, {64, 1024}} {
		spec := dataset.Spec{N: c.n, Seed: 1, Res: c.res, ValFrac: 0.375}
		model, err := encoder.NewBaseline(encoder.BaselineOptions{Objective: encoder.Random, Res: c.res, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		images := make([]*image.RGBA, spec.N)
		for i := range images {
			images[i] = spec.Image(i)
		}
		emb := model.NewEmbedder(encoder.EmbedOptions{})
		if _, err := emb.Embed(context.Background(), images[:64]); err != nil {
			b.Fatal(err)
		}
		for _, kind := range []string{"spec", "folder"} {
			source := spec.String()
			if kind == "folder" {
				source = writeFolder(b, spec)
			}
			b.Run(fmt.Sprintf("res=%d/%s", c.res, kind), func(b *testing.B) {
				var embedTime, pipelineTime, runTime, embedCPU, pipeCPU, runCPU time.Duration
				count := 0
				for b.Loop() {
					start, cpu := time.Now(), cpuTime()
					if _, err := emb.Embed(context.Background(), images); err != nil {
						b.Fatal(err)
					}
					embedTime += time.Since(start)
					embedCPU += cpuTime() - cpu

					// The space is created beforehand: storing its checkpoint
					// is a fixed cost, not a cost per image.
					db, err := index.Open(filepath.Join(b.TempDir(), "bench.db"), index.Options{})
					if err != nil {
						b.Fatal(err)
					}
					if _, _, _, err := openSpace(context.Background(), db, "bench", model); err != nil {
						b.Fatal(err)
					}
					start, cpu = time.Now(), cpuTime()
					var pipelineCPU time.Duration
					progress := func(p Progress) {
						if p.Done == p.Total {
							pipelineCPU = cpuTime() - cpu
						}
					}
					sum, err := Run(context.Background(), db, Options{Source: source, Space: "bench", Encoder: model, Progress: progress})
					if err != nil {
						b.Fatal(err)
					}
					runTime += time.Since(start)
					runCPU += cpuTime() - cpu
					pipeCPU += pipelineCPU
					pipelineTime += time.Duration(sum.Seconds * float64(time.Second))
					count += sum.AddedVectors
					db.Close()
				}
				n := float64(count)
				b.ReportMetric(n/embedTime.Seconds(), "embed-images/s")
				b.ReportMetric(n/pipelineTime.Seconds(), "pipeline-images/s")
				b.ReportMetric(n/runTime.Seconds(), "images/s")
				b.ReportMetric(100*(pipelineTime.Seconds()/embedTime.Seconds()-1), "overhead-%")
				b.ReportMetric(n/embedCPU.Seconds(), "embed-images/cpu-s")
				b.ReportMetric(n/pipeCPU.Seconds(), "pipeline-images/cpu-s")
				b.ReportMetric(n/runCPU.Seconds(), "images/cpu-s")
			})
		}
	}
}

// cpuTime returns the CPU time used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
