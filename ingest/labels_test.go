package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/dataset"
	"simsearch/index"
	"simsearch/internal/imagetest"
)

// labelledFolder writes images of several kinds (RGB, grayscale,
// paletted, 16-bit, not square, JPEG) into a folder and returns it.
func labelledFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	spec := dataset.Spec{N: 8, Seed: 9, Res: 16}
	for i := range 4 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("rgb%d.png", i)), imagetest.PNG(t, spec.Image(i)))
	}
	gray := image.NewGray(image.Rect(0, 0, 12, 12))
	gray16 := image.NewGray16(image.Rect(0, 0, 12, 20))
	pal := image.NewPaletted(image.Rect(0, 0, 10, 10), color.Palette{color.Black, color.RGBA{200, 10, 10, 255}})
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7)
	}
	for y := range 20 {
		for x := range 12 {
			gray16.SetGray16(x, y, color.Gray16{Y: uint16(x*5000 + y*100)})
		}
	}
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3 / 2)
	}
	writeFile(t, filepath.Join(dir, "gray.png"), imagetest.PNG(t, gray))
	writeFile(t, filepath.Join(dir, "sub", "gray16.png"), imagetest.PNG(t, gray16))
	writeFile(t, filepath.Join(dir, "pal.png"), imagetest.PNG(t, pal))
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, wideImage(), nil); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "wide.jpg"), photo.Bytes())
	writeFile(t, filepath.Join(dir, "unlisted.png"), imagetest.PNG(t, spec.Image(7)))
	return dir
}

func writeLabels(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "labels.csv")
	writeFile(t, path, []byte(text))
	return path
}

func TestRunLabelledFolder(t *testing.T) {
	dir := labelledFolder(t)
	labels := writeLabels(t, `file,species,weight,split
rgb0.png,cat,1.5,train
rgb1.png,dog,2.5,train
rgb2.png,cat,3.25,val
rgb3.png,bird,4.0,val
gray.png,dog,5.5,
sub/gray16.png,cat,6.5,
pal.png,bird,,train
wide.jpg,dog,8.75,val
gone.png,cat,1,train
`)
	db := openDB(t)
	var warnings, skips []string
	sum := run(t, db, Options{
		Source: dir, Labels: labels, Space: "p", Encoder: pixelsModel(t, 8),
		OnWarning: func(m string) { warnings = append(warnings, m) },
		OnSkip:    func(src, reason string) { skips = append(skips, src+": "+reason) },
	})
	t.Logf("summary %+v; warnings %q; skips %q", sum, warnings, skips)
	if sum.Kind != kindLabels || sum.AddedItems != 8 || sum.Skipped != 2 {
		t.Errorf("summary %+v, want 8 items, 2 skipped (an unlisted image and a missing file)", sum)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "line 8") || !strings.Contains(warnings[0], "weight") {
		t.Errorf("warnings %q, want one naming line 8 and weight", warnings)
	}
	if !strings.Contains(strings.Join(skips, "\n"), "line 10 of labels.csv") || !strings.Contains(strings.Join(skips, "\n"), "not listed in labels.csv") {
		t.Errorf("skips %q, want the missing file with its line and the unlisted image", skips)
	}
	schema, err := db.LabelSchema()
	if err != nil {
		t.Fatal(err)
	}
	species, _ := schema.Label("species")
	weight, _ := schema.Label("weight")
	if species.Kind != index.Categorical || strings.Join(species.Classes, " ") != "bird cat dog" {
		t.Errorf("species %+v, want categorical bird cat dog", species)
	}
	if weight.Kind != index.Continuous || len(weight.Classes) != 3 || len(weight.Edges) != 2 {
		t.Errorf("weight %+v, want continuous in 3 bins", weight)
	}
	items := map[string]index.Item{}
	db.ForEachItem(context.Background(), func(it index.Item) error {
		items[filepath.Base(it.Source)] = it
		return nil
	})
	if it := items["rgb1.png"]; it.Labels["species"] != 2 || it.Factors["weight"] != 2.5 || it.Labels["weight"] != weight.Bin(2.5) || it.Split != "train" {
		t.Errorf("rgb1.png: %+v", it)
	}
	if it := items["pal.png"]; it.Labels["species"] != 0 || len(it.Factors) != 0 {
		t.Errorf("pal.png (no weight): %+v", it)
	}
	for _, name := range []string{"gray.png", "gray16.png"} {
		if s := items[name].Split; s != "train" && s != "val" {
			t.Errorf("%s: split %q drawn from the hash, want train or val", name, s)
		}
	}

	// A second file relabels the stored images, and adds no item.
	relabel := writeLabels(t, "file,species\nrgb0.png,dog\nrgb1.png,dog\n")
	sum = run(t, db, Options{Source: dir, Labels: relabel, Space: "p"})
	if sum.AddedItems != 0 || sum.Relabelled != 1 || sum.Present != 2 {
		t.Errorf("relabel summary %+v, want 1 relabelled, nothing added", sum)
	}
	ids, _ := db.Select(index.Filter{Labels: []index.LabelIs{{Name: "species", Value: 2}}})
	if len(ids) != 4 {
		t.Errorf("species=dog selects %d items after the relabel, want 4", len(ids))
	}
}

func TestRunLabelsBadInput(t *testing.T) {
	dir := labelledFolder(t)
	many := new(strings.Builder)
	many.WriteString("file,id\n")
	for i := range index.MaxClasses + 5 {
		fmt.Fprintf(many, "f%d.png,x%d\n", i, i)
	}
	for _, c := range []struct {
		name, csv string
		opts      LabelOptions
		want      error
		message   string
	}{
		{"no file column", "path,species\nrgb0.png,cat\n", LabelOptions{}, ErrBadLabels, "no column called file"},
		{"disagreeing rows", "file,species\nrgb0.png,cat\nrgb1.png,dog\nrgb0.png,dog\n", LabelOptions{}, ErrBadLabels, "line 4"},
		{"too many classes", many.String(), LabelOptions{}, ErrBadLabels, "line 1002"},
		{"not a number", "file,weight\nrgb0.png,1.5\nrgb1.png,heavy\n", LabelOptions{Continuous: []string{"weight"}}, ErrBadLabels, "line 3"},
		{"ragged row", "file,species\nrgb0.png,cat,extra\n", LabelOptions{}, ErrBadLabels, "line 2"},
		{"unknown column flag", "file,species\nrgb0.png,cat\n", LabelOptions{Continuous: []string{"age"}}, ErrBadLabels, "age"},
		{"empty file", "", LabelOptions{}, ErrBadLabels, "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t)
			run(t, db, Options{Source: dir, Space: "p", Encoder: pixelsModel(t, 8)})
			before := db.Len()
			_, err := Run(context.Background(), db, Options{Source: dir, Labels: writeLabels(t, c.csv), LabelOptions: c.opts, Space: "p"})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("error %v, want %v naming %q", err, c.want, c.message)
			}
			if db.Len() != before {
				t.Fatalf("a failed run changed the items: %d, then %d", before, db.Len())
			}
			if s, _ := db.LabelSchema(); len(s.Labels) != 0 {
				t.Fatalf("a failed run stored a schema: %+v", s)
			}
		})
	}
	// A repeated row that agrees is a warning.
	var warnings []string
	db := openDB(t)
	run(t, db, Options{Source: dir, Labels: writeLabels(t, "file,species\nrgb0.png,cat\nrgb0.png,cat\n"), Space: "p", Encoder: pixelsModel(t, 8),
		OnWarning: func(m string) { warnings = append(warnings, m) }})
	if len(warnings) != 1 || !strings.Contains(warnings[0], "line 3 repeats line 2") {
		t.Errorf("warnings %q", warnings)
	}
}

func TestQuantileBins(t *testing.T) {
	for _, c := range []struct {
		values []float64
		bins   int
		edges  int
	}{
		{[]float64{1, 2, 3, 4, 5, 6}, 3, 2},
		{[]float64{1, 1, 1, 1}, 3, 0},
		{[]float64{0, 0, 0, 5, 6, 7}, 3, 1},
	} {
		info := quantileBins("x", c.values, c.bins)
		if len(info.Edges) != c.edges || len(info.Classes) != c.edges+1 {
			t.Errorf("bins of %v: %+v, want %d edges", c.values, info, c.edges)
		}
	}
}

func TestSplitOfIsStable(t *testing.T) {
	val := 0
	for i := range 3000 {
		h := index.Hash{byte(i), byte(i >> 8), byte(i * 7)}
		if splitOf(h, 0.25) == index.SplitVal {
			val++
		}
		if splitOf(h, 0.25) != splitOf(h, 0.25) {
			t.Fatal("splitOf is not a function of the hash")
		}
	}
	if val < 600 || val > 900 {
		t.Errorf("%d of 3000 hashes in val at 0.25", val)
	}
}

func FuzzReadLabels(f *testing.F) {
	f.Add([]byte("file,species,weight,split\na.png,cat,1.5,train\nb.png,dog,,val\n"))
	f.Add([]byte("\ufefffile\n\"a\nb\",x\n"))
	f.Add([]byte("file,x,x\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "l.csv")
		writeFile(t, path, data)
		tab, err := readLabels(path, dir, LabelOptions{}, index.LabelSchema{}, func(string) {})
		if err != nil {
			if !errors.Is(err, ErrBadLabels) && !errors.Is(err, ErrOptions) {
				t.Fatalf("error %v wraps neither ErrBadLabels nor ErrOptions", err)
			}
			return
		}
		if _, err := (index.LabelSchema{}).Merge(tab.schema); err != nil {
			t.Fatalf("schema %+v the store would refuse: %v", tab.schema, err)
		}
		for _, r := range tab.rows {
			for name, v := range r.labels {
				l, ok := tab.schema.Label(name)
				if !ok || v < 0 || v >= len(l.Classes) {
					t.Fatalf("row %+v: label %s=%d outside the schema %+v", r, name, v, tab.schema)
				}
			}
		}
	})
}
