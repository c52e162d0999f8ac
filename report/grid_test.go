package report

import (
	"context"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/encoder"
	"simsearch/index"
	"simsearch/spaces"
)

// gridStore makes a store of a complete grid of labels a (8 classes), b
// (6) and c (5), one item each, plus a continuous factor w, with a space
// "g" whose vectors see a alone (a point on a circle per class of a).
// With grid false the items carry a and w only.
func gridStore(t *testing.T, grid bool) index.Store {
	t.Helper()
	ctx := context.Background()
	db, err := index.Open(filepath.Join(t.TempDir(), "grid.db"), index.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema := index.LabelSchema{Labels: []index.LabelInfo{
		{Name: "a", Kind: index.Categorical, Classes: []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"}, Grid: grid},
		{Name: "w", Kind: index.Continuous, Classes: []string{"low", "high"}, Edges: []float64{2.5}},
	}}
	if grid {
		schema.Labels = append(schema.Labels,
			index.LabelInfo{Name: "b", Kind: index.Categorical, Classes: []string{"0", "1", "2", "3", "4", "5"}, Grid: true},
			index.LabelInfo{Name: "c", Kind: index.Categorical, Classes: []string{"0", "1", "2", "3", "4"}, Grid: true})
	}
	if _, err := db.SetLabels(ctx, schema, nil); err != nil {
		t.Fatal(err)
	}
	var items []index.Item
	var flat []float32
	i := 0
	for a := range 8 {
		for b := range 6 {
			for c := range 5 {
				img := image.NewRGBA(image.Rect(0, 0, 8, 8))
				for p := range 64 {
					img.SetRGBA(p%8, p/8, color.RGBA{uint8(30 * a), uint8(40 * b), uint8(50 * c), 255})
				}
				split := index.SplitTrain
				if i%3 == 0 {
					split = index.SplitVal
				}
				it := spaces.NewItem(img, spaces.Origin{Source: "grid", Split: split})
				w := float64(b) + 0.01*float64(c)
				it.Labels = map[string]int{"a": a, "w": schema.Labels[1].Bin(w)}
				it.Factors = map[string]float64{"w": w}
				if grid {
					it.Labels["b"], it.Labels["c"] = b, c
				}
				items = append(items, it)
				angle := 2 * math.Pi * float64(a) / 8
				flat = append(flat, float32(math.Cos(angle)), float32(math.Sin(angle)), 0.3+0.001*float32((i*7919)%13))
				i++
			}
		}
	}
	ids, _, err := db.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := db.CreateSpace(ctx, index.SpaceConfig{Name: "g", Dim: 3, Encoder: index.Encoder{ID: "g"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.AddVectors(ctx, ids, flat); err != nil {
		t.Fatal(err)
	}
	return index.FileStore(db)
}

func gridOptions() Options {
	enc := pixelEncoder{"g", 8, hueVector}
	return Options{Bases: 20, Variants: 4, OrbitSets: 10, OrbitSize: 3, Augmentation: "A", Seed: 2,
		Encoders: func(index.SpaceStore) (encoder.Encoder, error) { return enc, nil }}
}

func TestReportFromStoredGrid(t *testing.T) {
	st := gridStore(t, true)
	r := measure(t, st, gridOptions())
	sr := r.Spaces[0]
	if sr.FactorGrid == nil || !sr.FactorGrid.Available || sr.FactorGrid.Coverage != 1 || sr.FactorGrid.Combinations != 240 {
		t.Fatalf("factor grid %+v, want a complete one of 240", sr.FactorGrid)
	}
	got := map[string]float64{}
	for _, iv := range sr.Interventions {
		got[iv.Factor] = iv.Sensitivity
		if iv.Source != "stored grid" || iv.Sets != 20 {
			t.Errorf("intervention %s: source %q, %d sets", iv.Factor, iv.Source, iv.Sets)
		}
	}
	if got["a"] < 0.5 || got["b"] > 0.05 || got["c"] > 0.05 {
		t.Errorf("sensitivities %v: want a high, b and c near 0", got)
	}
	v := verdicts(sr)
	if v["a"] != Sensitive || v["b"] != Invariant || v["c"] != Invariant {
		t.Errorf("verdicts %v", v)
	}
	var a LabelAccuracy
	for _, k := range sr.KNN {
		if k.Label == "a" {
			a = k
		}
	}
	if a.Accuracy != 1 || len(a.PerClass) != 8 || a.PerClass[3].Name != "a3" || len(a.Confusion) != 8 || a.Confusion[3][3] != a.PerClass[3].Queries {
		t.Errorf("k-NN of a: %+v", a)
	}
	if len(sr.Regression) != 1 || sr.Regression[0].Factor != "w" || sr.Regression[0].Relative < 0.5 {
		t.Errorf("regression %+v: w is not in the vectors, want a relative error near 1", sr.Regression)
	}
	if sr.Orbit == nil || sr.Orbit.Sets != 10 {
		t.Errorf("orbits of stored images: %+v", sr.Orbit)
	}
}

func TestReportWithoutGrid(t *testing.T) {
	st := gridStore(t, false)
	r := measure(t, st, gridOptions())
	sr := r.Spaces[0]
	if sr.FactorGrid == nil || sr.FactorGrid.Available || !strings.Contains(sr.FactorGrid.Reason, "1 such label") {
		t.Fatalf("factor grid %+v, want unavailable with a reason", sr.FactorGrid)
	}
	if len(sr.Interventions) != 0 {
		t.Errorf("interventions %+v without a grid", sr.Interventions)
	}
	v := verdicts(sr)
	if v["a"] != Sensitive || v["w"] != Invariant {
		t.Errorf("verdicts %v, want a sensitive and w invariant from k-NN alone", v)
	}
	for _, fv := range sr.Verdicts {
		if !fv.NoIntervention {
			t.Errorf("verdict %+v has an intervention", fv)
		}
	}
}
