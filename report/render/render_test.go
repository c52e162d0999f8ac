package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/index"
	"simsearch/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenReport reads package report's golden report.json.
func goldenReport(t *testing.T) *report.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestMarkdownGolden(t *testing.T) {
	var got bytes.Buffer
	if err := Markdown(&got, goldenReport(t)); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.md")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("report.md differs from %s (run with -update if the change is intended):\n%s", golden, got.String())
	}
}

// thumbs gives every item a small picture whose colour encodes its id.
type thumbs struct{}

func (thumbs) Thumbnail(id index.ItemID) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 64 {
		img.Set(i%8, i/8, color.RGBA{uint8(id), uint8(id >> 8), 200, 255})
	}
	return EncodePNG(img)
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("SIMSEARCH_REPORT_DIR"); d != "" {
		dir = d // to look at the pictures
	}
	written, err := WriteFiles(dir, goldenReport(t), thumbs{})
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(written, " ")
	for _, want := range []string{"report.md", "report.json", "colour-only-neighbours.png", "colour-only-distances.png", "location-only-distances.png"} {
		if !strings.Contains(names, want) {
			t.Errorf("WriteFiles wrote %s, without %s", names, want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestDrawGrid(t *testing.T) {
	cell := image.NewRGBA(image.Rect(0, 0, 16, 16))
	g := Grid{Title: "t", Columns: []string{"query", "NN 1"}, QueryGap: true, Rows: []GridRow{
		{Label: "a very long label that is shortened from the left", Cells: []image.Image{cell, nil}, Captions: []string{"", "0.123"}},
		{Label: "b", Cells: []image.Image{cell}},
	}}
	img := DrawGrid(g)
	// Cells of 16 px are scaled to 96; captions add a line to each row.
	if img.Rect.Dy() < 2*(96+gridLineTall) || img.Rect.Dx() < 2*96+gridQueryGap {
		t.Fatalf("grid of %v is too small for 2×2 cells of 96 px", img.Rect)
	}
}

func TestMarkdownSeedSpreads(t *testing.T) {
	r := goldenReport(t)
	var without bytes.Buffer
	if err := Markdown(&without, r); err != nil {
		t.Fatal(err)
	}
	r.SeedSpreads = []report.SeedSpread{{
		Recipe: "contrastive, augmentation A", Spaces: []string{"A-1", "A-2"}, Seeds: []uint64{1, 2},
		Cells: []report.SpreadCell{{Measure: "knn", Factor: "shape", Mean: 0.55, Std: 0.0707, Min: 0.5, Max: 0.6}},
	}}
	var with bytes.Buffer
	if err := Markdown(&with, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## How much a cell moves between seeds", "contrastive, augmentation A: 2 spaces (A-1, A-2), seeds 1, 2.", "| k-NN shape | 0.550 ± 0.071 | 0.500–0.600 |"} {
		if !strings.Contains(with.String(), want) {
			t.Errorf("report.md with a seed spread lacks %q", want)
		}
	}
	if strings.Contains(without.String(), "moves between seeds") {
		t.Errorf("report.md without spreads has the section")
	}
}
