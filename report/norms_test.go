package report_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
	"simsearch/report"
	"simsearch/report/render"
)

// TestReportShowsUnnormalizedNorms reports on a space of an encoder
// trained without normalization: the report gives the norms of its
// outputs and warns that the space's cosine neighbours hide them.
func TestReportShowsUnnormalizedNorms(t *testing.T) {
	ctx := context.Background()
	data, err := encoder.LoadTrainingSet(ctx, "shapes:n=96,seed=3,res=8,val=0")
	if err != nil {
		t.Fatal(err)
	}
	m, err := encoder.Train(ctx, encoder.TrainOptions{Data: data, NoNormalize: true, Width: 4, Latent: 8, Epochs: 20, Batch: 16, LearningRate: 1e-2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := index.Open(filepath.Join(t.TempDir(), "n.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := index.FileStore(db)
	if _, err := ingest.Run(ctx, st, ingest.Options{Source: "shapes:n=120,seed=4,res=8,val=0.5", Space: "shortcut", Encoder: m}); err != nil {
		t.Fatal(err)
	}
	opts := report.Options{Bases: 4, Variants: 3, NoOrbits: true, NoGrid: true, Seed: 2}
	if err := report.Prepare(ctx, st, opts); err != nil {
		t.Fatal(err)
	}
	r, err := report.Run(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	n := r.Spaces[0].Norms
	if n == nil {
		t.Fatal("no output norms for an unnormalized encoder")
	}
	t.Logf("norms %+v", *n)
	if n.Items != 60 || len(n.Percentiles) != 7 || !(n.Percentiles[0] > 0) || n.Percentiles[0] > n.Percentiles[3] || n.Percentiles[3] > n.Percentiles[6] {
		t.Errorf("norm distribution %+v", *n)
	}
	var md strings.Builder
	if err := render.Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "**Warning:** the encoder was trained on unnormalized outputs") || !strings.Contains(md.String(), "cosine neighbours hide") {
		t.Errorf("report.md does not warn:\n%s", md.String())
	}
}
