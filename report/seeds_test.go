package report

import (
	"math"
	"testing"

	"simsearch/encoder"
)

func TestSeedSpreads(t *testing.T) {
	contrastive := func(name string, seed uint64, aug string, shape, colour float64) *SpaceReport {
		return &SpaceReport{
			Name: name,
			Encoder: encoder.Info{Objective: encoder.Contrastive, Augmentation: aug, Tau: 0.07, Res: 32, Width: 32, Latent: 128,
				Input: encoder.Centered, Epochs: 15, Batch: 256, LearningRate: 2e-4, Data: "shapes32", Seed: seed},
			KNN:           []LabelAccuracy{{Label: "shape", Accuracy: shape}},
			Interventions: []Intervention{{Factor: "color", Groups: Groups{SetGeometry: SetGeometry{Sensitivity: colour}}}},
		}
	}
	spaces := []*SpaceReport{
		contrastive("A-1", 1, "A", 0.50, 0.10),
		{Name: "pixels", Encoder: encoder.Info{Objective: encoder.Pixels, Res: 32, Pool: 8, Seed: 1}},
		contrastive("B-1", 1, "B", 0.40, 0.90),
		contrastive("A-2", 2, "A", 0.60, 0.20),
		contrastive("B-1-again", 1, "B", 0.42, 0.92), // the same seed: no spread
		contrastive("A-3", 3, "A", 0.70, 0.30),
	}
	got := seedSpreads(spaces)
	if len(got) != 1 {
		t.Fatalf("%d recipes with a spread, want 1 (A): %+v", len(got), got)
	}
	s := got[0]
	if len(s.Spaces) != 3 || s.Spaces[0] != "A-1" || s.Spaces[2] != "A-3" || s.Seeds[1] != 2 {
		t.Errorf("spaces %v, seeds %v", s.Spaces, s.Seeds)
	}
	want := []SpreadCell{
		{Measure: "knn", Factor: "shape", Mean: 0.6, Std: 0.1, Min: 0.5, Max: 0.7},
		{Measure: "sensitivity", Factor: "color", Mean: 0.2, Std: 0.1, Min: 0.1, Max: 0.3},
	}
	if len(s.Cells) != len(want) {
		t.Fatalf("cells %+v", s.Cells)
	}
	for i, w := range want {
		c := s.Cells[i]
		if c.Measure != w.Measure || c.Factor != w.Factor || math.Abs(c.Mean-w.Mean) > 1e-12 || math.Abs(c.Std-w.Std) > 1e-12 ||
			math.Abs(c.Min-w.Min) > 1e-12 || math.Abs(c.Max-w.Max) > 1e-12 {
			t.Errorf("cell %d = %+v, want %+v", i, c, w)
		}
	}

	// Another input scaling or another batch is another recipe.
	other := contrastive("A-4", 4, "A", 0.9, 0.9)
	other.Encoder.Input = encoder.Unit
	other.Encoder.Batch = 64
	if got := seedSpreads(append(spaces, other)); len(got) != 1 || len(got[0].Spaces) != 3 {
		t.Errorf("a space of another recipe joined the spread: %+v", got)
	}
}
