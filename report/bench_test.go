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
	"simsearch/spaces"
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
func benchDB(b *testing.B, n int) index.Store {
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
		return index.FileStore(db)
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
				Source: spaces.SpecSource(spec, i), Hash: spaces.ContentHash(img), Split: spec.Split(i).String(),
				Factors: spaces.FactorMap(f), Labels: spaces.LabelMap(f.Labels(spec.Res)),
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
	return index.FileStore(db)
}

// BenchmarkReport measures a whole report of one space of synthetic 128-d
// vectors (SIMSEARCH_REPORT_ITEMS items, default 100,000) through the index,
// with every validation item querying (a full report), and on a sample of
// SIMSEARCH_REPORT_QUERIES validation queries (default 10,000) both through
// the index and by brute force, whose verdicts must agree. A brute-force
// full report is too long to wait for at 1,000,000 items: its time is
// extrapolated from the sample, since every brute-force query scans the
// same vectors, and logged beside the measured one.
func BenchmarkReport(b *testing.B) {
	n := envInt("SIMSEARCH_REPORT_ITEMS", 100_000)
	sample := envInt("SIMSEARCH_REPORT_QUERIES", 10_000)
	db := benchDB(b, n)
	synthetic := pixelEncoder{name: "noisy colour and location", res: 16, f: noisyColourLocation}
	encoders := func(index.SpaceStore) (encoder.Encoder, error) { return synthetic, nil }
	// The probe items are stored first, so that every timed report does
	// the same work.
	if err := Prepare(context.Background(), db, Options{Augmentation: "C", Encoders: encoders}); err != nil {
		b.Fatal(err)
	}
	results := map[string]*SpaceReport{}
	for _, run := range []struct {
		name    string
		queries int
		method  index.Method
	}{{"index-all", 0, index.Auto}, {"index-sample", sample, index.Auto}, {"exact-sample", sample, index.Exact}} {
		b.Run(fmt.Sprintf("items=%d/%s", n, run.name), func(b *testing.B) {
			var r *Report
			for b.Loop() {
				var err error
				r, err = Run(context.Background(), db, Options{
					Queries: run.queries, Method: run.method, NoGrid: true, Augmentation: "C", Encoders: encoders,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			sr := r.Spaces[0]
			results[run.name] = sr
			b.ReportMetric(float64(sr.KNN[0].Queries), "queries")
			b.ReportMetric(float64(sr.KNN[0].Queries)/sr.StageSeconds["k-NN"], "knn-queries/s")
			b.ReportMetric(sr.StageSeconds["k-NN"], "knn-s")
			b.ReportMetric(sr.Seconds-sr.StageSeconds["k-NN"], "other-s")
			b.ReportMetric(sr.Trust.Recall, "recall@10")
			b.Logf("%s: verdicts %v, stages %v", run.name, verdicts(sr), sr.StageSeconds)
		})
	}
	viaIndex, exact, all := results["index-sample"], results["exact-sample"], results["index-all"]
	if viaIndex == nil || exact == nil || all == nil {
		return // a -bench pattern left some out
	}
	for factor, v := range verdicts(viaIndex) {
		if verdicts(exact)[factor] != v {
			b.Errorf("%s: %s through the index, %s by brute force", factor, v, verdicts(exact)[factor])
		}
	}
	scale := float64(all.KNN[0].Queries) / float64(exact.KNN[0].Queries)
	bruteForce := exact.Seconds - exact.StageSeconds["k-NN"] + scale*exact.StageSeconds["k-NN"]
	b.Logf("full report of %d validation queries: %.1f s through the index; by brute force %.0f s (extrapolated ×%.1f from %d queries): %.1f× faster",
		all.KNN[0].Queries, all.Seconds, bruteForce, scale, exact.KNN[0].Queries, bruteForce/all.Seconds)
}
