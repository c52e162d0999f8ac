package report

import (
	"context"
	"fmt"
	"testing"

	"simsearch/encoder"
	"simsearch/index"
)

// BenchmarkDecodability measures the stages this report adds (linear
// probes, the label-free geometry with PCA, CKA between two spaces)
// against the k-NN stage, on one space of synthetic 128-d vectors of
// SIMSEARCH_REPORT_ITEMS items (default 40,000), every validation item
// querying.
func BenchmarkDecodability(b *testing.B) {
	n := envInt("SIMSEARCH_REPORT_ITEMS", 40_000)
	db := benchDB(b, n)
	synthetic := pixelEncoder{name: "noisy colour and location", res: 16, f: noisyColourLocation}
	encoders := func(index.SpaceStore) (encoder.Encoder, error) { return synthetic, nil }
	opts := Options{Augmentation: "C", Encoders: encoders, NoGrid: true}
	if err := Prepare(context.Background(), db, opts); err != nil {
		b.Fatal(err)
	}
	items, err := loadItemLabels(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	// The default sample of the probes, and a fifth of it.
	for _, probeItems := range []int{maxProbeTrain, maxProbeTrain / 5} {
		b.Run(fmt.Sprintf("items=%d/probe-items=%d", n, probeItems), func(b *testing.B) {
			opts := opts
			opts.ProbeItems = probeItems
			var sr *SpaceReport
			var cka *CKATable
			for b.Loop() {
				r, err := Run(context.Background(), db, opts)
				if err != nil {
					b.Fatal(err)
				}
				sr = r.Spaces[0]
				// CKA of the space with itself costs what CKA of two spaces does.
				if cka, err = measureCKA(context.Background(), db, []string{"synthetic", "synthetic"}, items, 1); err != nil {
					b.Fatal(err)
				}
			}
			knn := sr.StageSeconds["k-NN"]
			added := sr.StageSeconds["probes"] + sr.StageSeconds["geometry"] + cka.Seconds
			b.ReportMetric(knn, "knn-s")
			b.ReportMetric(sr.StageSeconds["probes"], "probes-s")
			b.ReportMetric(sr.StageSeconds["geometry"], "geometry-s")
			b.ReportMetric(cka.Seconds, "cka-s")
			b.ReportMetric(added/knn, "added/knn")
			var colour float64
			for _, p := range sr.Probes {
				if p.Label == "color" {
					colour = p.Accuracy
				}
			}
			b.Logf("%d items: k-NN %.2f s (%d queries); probes on %d items %.2f s (colour accuracy %.3f), geometry (RankMe, MIG, SAP, PCA) %.2f s, CKA of a pair over %d items %.2f s: %.3f of the k-NN stage",
				n, knn, sr.KNN[0].Queries, probeItems, sr.StageSeconds["probes"], colour, sr.StageSeconds["geometry"], cka.Items, cka.Seconds, added/knn)
		})
	}
}
