package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"

	"simsearch/index"
)

// gridNpz writes a small dataset in the dSprites layout: 8×8 masks of 0s
// and 1s, a square of side 1+scale at (posX, posY), for every combination
// of color (one value), shape (2), scale (2), orientation (one value),
// posX (3) and posY (2): 24 images.
func gridNpz(t testing.TB, mutate func(map[string]any)) string {
	t.Helper()
	var imgs [][][]uint8
	var classes [][]int64
	var values [][]float64
	for shape := range 2 {
		for scale := range 2 {
			for x := range 3 {
				for y := range 2 {
					img := make([][]uint8, 8)
					for r := range img {
						img[r] = make([]uint8, 8)
					}
					side := 1 + scale + 2*shape
					for r := 2 * y; r < 2*y+side; r++ {
						for c := 2 * x; c < 2*x+side; c++ {
							img[r][c] = 1
						}
					}
					imgs = append(imgs, img)
					classes = append(classes, []int64{0, int64(shape), int64(scale), 0, int64(x), int64(y)})
					values = append(values, []float64{1, float64(shape + 1), 0.5 + 0.5*float64(scale), 0, float64(x) / 2, float64(y)})
				}
			}
		}
	}
	arrays := map[string]any{"imgs.npy": imgs, "latents_classes.npy": classes, "latents_values.npy": values}
	if mutate != nil {
		mutate(arrays)
	}
	path := filepath.Join(t.TempDir(), "grid.npz")
	if err := npz.Write(path, arrays); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunNpzGrid(t *testing.T) {
	path := gridNpz(t, nil)
	db := openDB(t)
	sum := run(t, db, Options{Source: path, Space: "p", Encoder: pixelsModel(t, 8)})
	if sum.Kind != kindNpz || sum.Images != 24 || sum.AddedItems != 24 || sum.AddedVectors != 24 {
		t.Fatalf("summary %+v, want 24 images", sum)
	}
	schema, err := db.LabelSchema()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range schema.Labels {
		names = append(names, l.Name)
		if !l.Grid || l.Kind != index.Categorical {
			t.Errorf("label %+v: want a categorical grid label", l)
		}
	}
	if got := strings.Join(names, " "); got != "shape scale posX posY" {
		t.Errorf("labels %q, want shape scale posX posY (color and orientation have one value)", got)
	}
	if l, _ := schema.Label("shape"); strings.Join(l.Classes, " ") != "square ellipse" {
		t.Errorf("shape classes %q", l.Classes)
	}
	var last index.Item
	db.ForEachItem(context.Background(), func(it index.Item) error {
		last = it
		return nil
	})
	want := map[string]int{"shape": 1, "scale": 1, "posX": 2, "posY": 1}
	for k, v := range want {
		if last.Labels[k] != v {
			t.Errorf("last item labels %v, want %v", last.Labels, want)
		}
	}
	if _, ok := last.Factors["shape"]; ok || last.Factors["posX"] != 1 || !strings.HasSuffix(last.Source, "grid.npz#23") {
		t.Errorf("last item %+v: want posX value 1, no shape value, source grid.npz#23", last)
	}

	// A second space over the stored items re-reads them from the file.
	sum = run(t, db, Options{Space: "q", Encoder: randomModel(t, 8, 1)})
	if sum.AddedVectors != 24 || sum.Skipped != 0 {
		t.Errorf("re-read from the npz: %+v", sum)
	}
}

func TestRunNpzSubsets(t *testing.T) {
	path := gridNpz(t, nil)
	for _, c := range []struct {
		name string
		opts NpzOptions
		want int
	}{
		{"limit", NpzOptions{Limit: 6}, 6},
		{"sample", NpzOptions{Sample: 10, Seed: 3}, 10},
		{"sample of a limit", NpzOptions{Limit: 12, Sample: 5, Seed: 3}, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t)
			sum := run(t, db, Options{Source: path, Space: "p", Encoder: pixelsModel(t, 8), Npz: c.opts})
			if sum.AddedItems != c.want {
				t.Fatalf("%+v: %d items, want %d", c.opts, sum.AddedItems, c.want)
			}
			if c.opts.Limit == 6 {
				// The first 6 images have shape 0 and scale 0: only posX and
				// posY vary.
				s, _ := db.LabelSchema()
				if len(s.Labels) != 2 {
					t.Errorf("labels of the first 6: %+v, want posX and posY", s.Labels)
				}
			}
		})
	}
}

func TestRunNpzBadInput(t *testing.T) {
	for _, c := range []struct {
		name    string
		mutate  func(map[string]any)
		message string
	}{
		{"no imgs", func(a map[string]any) { delete(a, "imgs.npy") }, "no imgs"},
		{"no classes", func(a map[string]any) { delete(a, "latents_classes.npy") }, "no latents_classes"},
		{"short classes", func(a map[string]any) { a["latents_classes.npy"] = a["latents_classes.npy"].([][]int64)[:20] }, "24 images but latents_classes 20"},
		{"float images", func(a map[string]any) { a["imgs.npy"] = [][]float64{{1, 2}} }, "uint8"},
		{"values of another shape", func(a map[string]any) { a["latents_values.npy"] = a["latents_values.npy"].([][]float64)[:3] }, "latents_values"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t)
			_, err := Run(context.Background(), db, Options{Source: gridNpz(t, c.mutate), Space: "p", Encoder: pixelsModel(t, 8)})
			if !errors.Is(err, ErrBadNpz) || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("error %v, want ErrBadNpz naming %q", err, c.message)
			}
			if db.Len() != 0 {
				t.Fatalf("a bad npz stored %d items", db.Len())
			}
		})
	}
}
