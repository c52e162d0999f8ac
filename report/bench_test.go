package report

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
)

// benchDim is the dimension of the benchmark's synthetic space.
const benchDim = 128

// noisyColourLocation is a synthetic 128-d encoder: the hue on a circle and
// the centroid of the object's pixels, plus small noise drawn from the
// pixels' hash so that every image has its own vector and the index has a
// real search to do. It is sensitive to colour and location and nearly
// invariant to shape, size and rotation.
func noisyColourLocation(img *image.RGBA) []float32 {
	hue := hueVector(img)
	loc := centroidVector(img)
	sum := sha256.Sum256(img.Pix)
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
	v := make([]float32, benchDim)
	v[0], v[1] = hue[0], hue[1]
	v[2], v[3] = 0.7*loc[0], 0.7*loc[1]
	for i := 4; i < benchDim; i++ {
		v[i] = float32(0.02 * rng.NormFloat64())
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(norm))
	}
	return v
}

func envInt(name string, fallback int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return fallback
}

// benchDB opens (building it on first use) a database of n generated items
// at 16 px with one space of noisyColourLocation vectors. The file is kept
// at SIMSEARCH_REPORT_DB when set, so that a second benchmark run skips the
// build.
func benchDB(b *testing.B, n int) *index.DB {
	b.Helper()
	path := os.Getenv("SIMSEARCH_REPORT_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	db, err := index.Open(path, index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	space, err := db.CreateSpace(ctx, index.SpaceConfig{Name: "synthetic", Dim: benchDim, Encoder: index.Encoder{ID: "noisy colour and location", Resolution: 16}})
	if err != nil {
		b.Fatal(err)
	}
	if space.Len() >= n {
		return db
	}
	spec := dataset.Spec{N: n, Seed: 11, Res: 16, ValFrac: 0.375}
	start := time.Now()
	const batch = 10_000
	for first := 0; first < n; first += batch {
		var items []index.Item
		var flat []float32
		for i := first; i < min(first+batch, n); i++ {
			f := spec.Factors(i)
			img := dataset.Render(f, spec.Res)
			items = append(items, index.Item{
				Source: ingest.SpecSource(spec, i), Hash: ingest.ContentHash(img), Split: spec.Split(i).String(),
				Factors: ingest.FactorMap(f), Labels: ingest.LabelMap(f.Labels(spec.Res)),
			})
			flat = append(flat, noisyColourLocation(img)...)
		}
		ids, _, err := db.AddItems(ctx, items)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := space.AddVectors(ctx, ids, flat); err != nil {
			b.Fatal(err)
		}
	}
	if err := space.SaveGraph(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d items and their HNSW graph in %s", n, time.Since(start).Round(time.Second))
	return db
}

// BenchmarkReport measures a whole report of one space of synthetic 128-d
// vectors (SIMSEARCH_REPORT_ITEMS items, default 100,000; the k-NN part
// capped at SIMSEARCH_REPORT_QUERIES validation queries, default 10,000,
// 0 for all) through the index and by brute force, and checks that the
// verdicts agree.
func BenchmarkReport(b *testing.B) {
	n := envInt("SIMSEARCH_REPORT_ITEMS", 100_000)
	queries := envInt("SIMSEARCH_REPORT_QUERIES", 10_000)
	db := benchDB(b, n)
	synthetic := pixelEncoder{name: "noisy colour and location", res: 16, f: noisyColourLocation}
	encoders := func(*index.Space) (Encoder, error) { return synthetic, nil }
	// A first report stores the probe items, so that the timed ones do
	// the same work.
	if _, err := Run(context.Background(), db, Options{Queries: 1, GridQueries: -1, Augmentation: "C", Encoders: encoders}); err != nil {
		b.Fatal(err)
	}
	var verdictsByMethod []map[string]Verdict
	for _, method := range []index.Method{index.Auto, index.Exact} {
		b.Run(fmt.Sprintf("items=%d/queries=%d/%s", n, queries, method), func(b *testing.B) {
			var r *Report
			for b.Loop() {
				var err error
				r, err = Run(context.Background(), db, Options{
					Queries: queries, Method: method, GridQueries: -1, Augmentation: "C",
					Encoders: encoders,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			sr := r.Spaces[0]
			b.ReportMetric(float64(sr.KNN[0].Queries)/sr.StageSeconds["k-NN"], "knn-queries/s")
			b.ReportMetric(sr.StageSeconds["k-NN"], "knn-s")
			b.ReportMetric(sr.StageSeconds["interventions"]+sr.StageSeconds["orbits"], "probes-s")
			b.ReportMetric(sr.Trust.Recall, "recall@10")
			verdictsByMethod = append(verdictsByMethod, verdicts(sr))
			b.Logf("%s: verdicts %v, stages %v", method, verdicts(sr), sr.StageSeconds)
		})
	}
	if len(verdictsByMethod) == 2 {
		for factor, v := range verdictsByMethod[0] {
			if verdictsByMethod[1][factor] != v {
				b.Errorf("%s: %s through the index, %s by brute force", factor, v, verdictsByMethod[1][factor])
			}
		}
	}
}

var _ encoder.Info // the synthetic encoder's Info comes from report_test.go
