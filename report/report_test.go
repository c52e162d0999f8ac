package report

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// pixelEncoder is a synthetic encoder with a known geometry: it reads one
// property off the pixels and ignores everything else exactly.
type pixelEncoder struct {
	name string
	res  int
	f    func(img *image.RGBA) []float32
}

func (e pixelEncoder) Res() int { return e.res }
func (e pixelEncoder) Info() encoder.Info {
	return encoder.Info{Objective: encoder.Objective(e.name), Res: e.res, Dim: 3, Seed: 1}
}
func (e pixelEncoder) Embed(_ context.Context, images []*image.RGBA) ([][]float32, error) {
	out := make([][]float32, len(images))
	for i, img := range images {
		out[i] = e.f(img)
	}
	return out, nil
}

// objectPixels calls fn with the position and colour of every non-black
// pixel, and returns how many there were.
func objectPixels(img *image.RGBA, fn func(x, y int, r, g, b float64)) int {
	n := 0
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			p := img.Pix[y*img.Stride+4*x:]
			if p[0]|p[1]|p[2] == 0 {
				continue
			}
			n++
			fn(x, y, float64(p[0]), float64(p[1]), float64(p[2]))
		}
	}
	return n
}

// hueVector maps the hue of the mean object colour onto a circle: it sees
// colour and nothing else (an anti-aliased edge only darkens the colour).
func hueVector(img *image.RGBA) []float32 {
	var r, g, b float64
	if objectPixels(img, func(_, _ int, pr, pg, pb float64) { r, g, b = r+pr, g+pg, b+pb }) == 0 {
		return []float32{0, 0, 1}
	}
	// The angle of (r, g, b) around the grey axis is the hue.
	x := r - (g+b)/2
	y := math.Sqrt(3) / 2 * (g - b)
	n := math.Hypot(x, y)
	if n < 1e-9 { // grey: no hue
		return []float32{0, 0, 1}
	}
	return []float32{float32(x / n), float32(y / n), 0}
}

// centroidVector maps the centroid of the object's pixels into 3-d: it sees
// location and nothing else (but for shapes cut by the border).
func centroidVector(img *image.RGBA) []float32 {
	var sx, sy float64
	n := objectPixels(img, func(x, y int, _, _, _ float64) { sx, sy = sx+float64(x), sy+float64(y) })
	if n == 0 {
		return []float32{0, 0, 1}
	}
	res := float64(img.Rect.Dx())
	return []float32{float32(2 * (sx/float64(n)/res - 0.5)), float32(2 * (sy/float64(n)/res - 0.5)), 0.3}
}

// syntheticDB makes a database of generated items with one space per
// encoder, vectors computed by the encoder from the pixels.
func syntheticDB(t *testing.T, encoders ...pixelEncoder) *index.DB {
	t.Helper()
	ctx := context.Background()
	db, err := index.Open(filepath.Join(t.TempDir(), "synthetic.db"), index.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	spec := dataset.Spec{N: 900, Seed: 3, Res: 32, ValFrac: 1.0 / 3}
	t.Logf("items of %s", spec)
	var items []index.Item
	var images []*image.RGBA
	for i := range spec.N {
		img := spec.Image(i)
		var thumb bytes.Buffer
		if err := png.Encode(&thumb, img); err != nil {
			t.Fatal(err)
		}
		f := spec.Factors(i)
		items = append(items, ingest.NewItem(img, ingest.SpecSource(spec, i), spec.Split(i).String(), &f))
		images = append(images, img)
	}
	ids, _, err := db.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range encoders {
		space, err := db.CreateSpace(ctx, index.SpaceConfig{Name: e.name, Dim: 3, Encoder: index.Encoder{ID: e.name, Resolution: e.res}})
		if err != nil {
			t.Fatal(err)
		}
		vectors, _ := e.Embed(ctx, images)
		var flat []float32
		for _, v := range vectors {
			flat = append(flat, v...)
		}
		if _, err := space.AddVectors(ctx, ids, flat); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

var (
	colourOnly   = pixelEncoder{"colour-only", 32, hueVector}
	locationOnly = pixelEncoder{"location-only", 32, centroidVector}
)

func smallOptions(encoders ...pixelEncoder) Options {
	return Options{
		Bases: 40, Variants: 4, OrbitSets: 20, OrbitSize: 4, Augmentation: "A", Seed: 5,
		Encoders: func(s *index.Space) (Encoder, error) {
			for _, e := range encoders {
				if e.name == s.Name() {
					return e, nil
				}
			}
			panic("no encoder for " + s.Name())
		},
	}
}

func verdicts(sr *SpaceReport) map[string]Verdict {
	out := map[string]Verdict{}
	for _, v := range sr.Verdicts {
		out[v.Factor] = v.Verdict
	}
	return out
}

func TestSyntheticSpacesGetTheirVerdicts(t *testing.T) {
	db := syntheticDB(t, colourOnly, locationOnly)
	r, err := Run(context.Background(), db, smallOptions(colourOnly, locationOnly))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]Verdict{
		// Colour alone: every other factor is ignored exactly.
		"colour-only": {"shape": Invariant, "color": Sensitive, "location": Invariant, "size": Invariant, "rotation": Invariant},
		// Location alone: colour is ignored exactly; shape, size and
		// rotation move the centroid only of shapes cut by the border.
		"location-only": {"color": Invariant, "location": Sensitive},
	}
	for _, sr := range r.Spaces {
		got := verdicts(sr)
		for factor, w := range want[sr.Name] {
			if got[factor] != w {
				t.Errorf("%s: %s is %q, want %q (verdicts %+v)", sr.Name, factor, got[factor], w, sr.Verdicts)
			}
		}
		for _, a := range sr.KNN {
			if a.Accuracy < 0 || a.Accuracy > 1 || a.Chance <= 0 || a.Chance >= 1 {
				t.Errorf("%s: %s accuracy %v chance %v out of range", sr.Name, a.Label, a.Accuracy, a.Chance)
			}
		}
		if sr.Orbit == nil {
			t.Fatalf("%s: no orbit measured", sr.Name)
		}
	}
	// Augmentation A changes colour and nothing else: the colour-only
	// space spreads each orbit, the location-only space collapses it.
	if got := r.Spaces[1].Orbit.Alignment; got > 1e-9 {
		t.Errorf("location-only alignment under A = %v, want 0", got)
	}
	if got := r.Spaces[0].Orbit.Alignment; got < 0.1 {
		t.Errorf("colour-only alignment under A = %v, want well above 0", got)
	}
}

func TestIndexMarginsAgreeWithExactOnes(t *testing.T) {
	db := syntheticDB(t, locationOnly)
	opts := smallOptions(locationOnly)
	opts.Exact = true
	r, err := Run(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	trust := r.Spaces[0].Trust
	if !trust.Exact || trust.MarginAgreement < 0.99 {
		t.Fatalf("margins agree on %.3f of sets, want at least 0.99", trust.MarginAgreement)
	}
	if trust.Recall < 0.95 {
		t.Errorf("recall@10 = %v", trust.Recall)
	}
	if trust.MaxDifference > 0.05 {
		t.Errorf("largest difference from brute force %v (%s)", trust.MaxDifference, trust.WorstFigure)
	}
}

func TestSecondRunReusesProbes(t *testing.T) {
	db := syntheticDB(t, colourOnly)
	opts := smallOptions(colourOnly)
	first, err := Run(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	items := db.Len()
	second, err := Run(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if db.Len() != items {
		t.Fatalf("the second report added %d items", db.Len()-items)
	}
	var a, b bytes.Buffer
	first.WriteMarkdown(&a)
	second.WriteMarkdown(&b)
	if a.String() != b.String() {
		t.Fatalf("the second report differs from the first:\n%s\n----\n%s", a.String(), b.String())
	}
}

func TestReportMarkdownGolden(t *testing.T) {
	db := syntheticDB(t, colourOnly, locationOnly)
	r, err := Run(context.Background(), db, smallOptions(colourOnly, locationOnly))
	if err != nil {
		t.Fatal(err)
	}
	r.Database = "synthetic.db"
	var got bytes.Buffer
	if err := r.WriteMarkdown(&got); err != nil {
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

	dir := t.TempDir()
	if d := os.Getenv("SIMSEARCH_REPORT_DIR"); d != "" {
		dir = d // to look at the pictures
	}
	written, err := r.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(written, " ")
	for _, want := range []string{"report.md", "report.json", "colour-only-neighbours.png", "colour-only-distances.png"} {
		if !strings.Contains(names, want) {
			t.Errorf("WriteFiles wrote %s, without %s", names, want)
		}
	}
}
