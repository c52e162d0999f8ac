package report_test

import (
	"context"
	"path/filepath"
	"testing"

	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
	"simsearch/report"
)

// TestClassifierEqualsDualEncoder trains a tiny supervised encoder and a
// tiny dual encoder on colour, reports on both spaces, and checks the
// seed's claim: the classifier's and the dual encoder's predictions are
// the same for every item, so their accuracies are equal.
func TestClassifierEqualsDualEncoder(t *testing.T) {
	ctx := context.Background()
	data, err := encoder.LoadTrainingSet(ctx, "shapes:n=96,seed=3,res=8,val=0")
	if err != nil {
		t.Fatal(err)
	}
	db, err := index.Open(filepath.Join(t.TempDir(), "c.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := index.FileStore(db)
	for _, objective := range []encoder.Objective{encoder.Supervised, encoder.DualEncoder} {
		m, err := encoder.Train(ctx, encoder.TrainOptions{Data: data, Objective: objective, Label: "color",
			Width: 4, Latent: 8, Epochs: 4, Batch: 16, LearningRate: 3e-3, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Run(ctx, st, ingest.Options{Source: "shapes:n=160,seed=4,res=8,val=0.5", Space: string(objective), Encoder: m}); err != nil {
			t.Fatal(err)
		}
	}
	opts := report.Options{Bases: 4, Variants: 3, NoOrbits: true, NoGrid: true, Seed: 2}
	if err := report.Prepare(ctx, st, opts); err != nil {
		t.Fatal(err)
	}
	r, err := report.Run(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, sr := range r.Spaces {
		c := sr.Classifier
		if c == nil {
			t.Fatalf("%s: no classifier check", sr.Name)
		}
		t.Logf("%s: %+v", sr.Name, *c)
		if c.Items != 80 || c.Label != "color" || c.Objective != sr.Name {
			t.Errorf("%s: check of %d items of %s by %s, want 80 of color by %s", sr.Name, c.Items, c.Label, c.Objective, sr.Name)
		}
		if !c.Equal() || c.ClassifierAccuracy != c.DualEncoderAccuracy {
			t.Errorf("%s: classifier accuracy %v, dual encoder %v, %d of %d agree: want the same predictions", sr.Name, c.ClassifierAccuracy, c.DualEncoderAccuracy, c.Agree, c.Items)
		}
		if c.ClassifierAccuracy <= c.Chance {
			t.Errorf("%s: accuracy %v not above chance %v after training", sr.Name, c.ClassifierAccuracy, c.Chance)
		}
	}
}
