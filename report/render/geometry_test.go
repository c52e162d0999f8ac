package render

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/report"
)

// pcaReport is the golden report with PCA points: two labels, one of
// which (color) separates the points into clusters.
func pcaReport(t *testing.T) *report.Report {
	t.Helper()
	r := goldenReport(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sr := range r.Spaces {
		if sr.LabelFree == nil || sr.LabelFree.PCA == nil {
			t.Fatalf("%s: golden report without PCA", sr.Name)
		}
		pca := sr.LabelFree.PCA
		pca.Labels = map[string][]int{}
		for i := range 400 {
			colour, shape := i%8, rng.IntN(3)
			angle := 2 * math.Pi * float64(colour) / 8
			pca.Points = append(pca.Points, [2]float64{math.Cos(angle) + 0.1*rng.NormFloat64(), math.Sin(angle) + 0.1*rng.NormFloat64()})
			for _, name := range pca.LabelNames {
				c := shape
				if name == "color" {
					c = colour
				}
				pca.Labels[name] = append(pca.Labels[name], c)
			}
		}
	}
	return r
}

func TestGeometryPictures(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("SIMSEARCH_REPORT_DIR"); d != "" {
		dir = d // to look at the pictures
	}
	r := pcaReport(t)
	written, err := WriteFiles(dir, r, thumbs{})
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(written, " ")
	for _, want := range []string{"cka.png", "colour-only-pca.png", "location-only-pca.png"} {
		if !strings.Contains(names, want) {
			t.Fatalf("WriteFiles wrote %s, without %s", names, want)
		}
		b, err := os.ReadFile(filepath.Join(dir, want))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if bounds := img.Bounds(); bounds.Dx() < 200 || bounds.Dy() < 200 {
			t.Errorf("%s is %v, too small to read", want, bounds)
		}
	}
	var md bytes.Buffer
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"![PCA of colour-only, one panel per label](colour-only-pca.png)", "![linear CKA between spaces](cka.png)", "## Which spaces learned the same thing"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md without %q", want)
		}
	}
}
