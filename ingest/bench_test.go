package ingest

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
)

// BenchmarkIngest measures end-to-end ingestion next to the encoder's own
// embedding speed on the same images: each iteration embeds the images
// alone with Embedder.Embed, then ingests them into a new file with Run.
// The encoder is an untrained network of the default architecture (width
// 32, latent 128), as in encoder's BenchmarkEmbed; the source is a
// generator spec (rendered in memory) or a dataset folder (PNG files).
//
// Other work on the machine disturbs single runs, so the figures are
// medians over the iterations, and overhead-% is the median of the
// iterations' ratios of ingest time to embedding time, each pair measured
// back to back: embed-images/s is embedding alone; images/s is the
// pipeline (listing, reading, hashing, thumbnails, embedding, storing);
// graph-s is the HNSW build that follows. The *-images/cpu-s figures count
// CPU time instead of wall time.
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
				var embedTimes, ingestTimes, ratios, graphTimes []float64
				var embedCPU, ingestCPU time.Duration
				for b.Loop() {
					start, cpu := time.Now(), cpuTime()
					if _, err := emb.Embed(context.Background(), images); err != nil {
						b.Fatal(err)
					}
					embedTime := time.Since(start).Seconds()
					embedCPU += cpuTime() - cpu

					// The space is created beforehand: storing its checkpoint
					// is a fixed cost, not a cost per image.
					file, err := index.Open(filepath.Join(b.TempDir(), "bench.db"), index.Options{})
					if err != nil {
						b.Fatal(err)
					}
					db := index.FileStore(file)
					if _, _, err := openSpace(context.Background(), db, "bench", model); err != nil {
						b.Fatal(err)
					}
					cpu = cpuTime()
					progress := func(p Progress) {
						if p.Done == p.Total {
							ingestCPU += cpuTime() - cpu // before the graph
						}
					}
					sum, err := Run(context.Background(), db, Options{Source: source, Space: "bench", Encoder: model, Progress: progress})
					if err != nil {
						b.Fatal(err)
					}
					if sum.AddedVectors != spec.N {
						b.Fatalf("%d vectors added, want %d", sum.AddedVectors, spec.N)
					}
					db.Close()
					embedTimes = append(embedTimes, embedTime)
					ingestTimes = append(ingestTimes, sum.Seconds)
					ratios = append(ratios, sum.Seconds/embedTime)
					graphTimes = append(graphTimes, sum.GraphSeconds)
				}
				n := float64(spec.N)
				b.ReportMetric(n/median(embedTimes), "embed-images/s")
				b.ReportMetric(n/median(ingestTimes), "images/s")
				b.ReportMetric(100*(median(ratios)-1), "overhead-%")
				b.ReportMetric(median(graphTimes), "graph-s")
				runs := float64(len(ratios))
				b.ReportMetric(n*runs/embedCPU.Seconds(), "embed-images/cpu-s")
				b.ReportMetric(n*runs/ingestCPU.Seconds(), "images/cpu-s")
			})
		}
	}
}

// median returns the median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// cpuTime returns the CPU time used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
