package report

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/spaces"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// pixelEncoder is a synthetic encoder with a known geometry: it reads one
// property off the pixels and ignores everything else exactly.
type pixelEncoder struct {
	name string
	res  int
	f    func(img *image.RGBA) []float32
}

func (e pixelEncoder) Res() int           { return e.res }
func (e pixelEncoder) Dim() int           { return 3 }
func (e pixelEncoder) ID() string         { return e.name }
func (e pixelEncoder) String() string     { return e.name }
func (e pixelEncoder) Checkpoint() []byte { return nil }
func (e pixelEncoder) Close() error       { return nil }
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
func syntheticDB(t *testing.T, encoders ...pixelEncoder) index.Store {
	t.Helper()
	return syntheticDBAt(t, filepath.Join(t.TempDir(), "synthetic.db"), encoders...)
}

// syntheticDBAt makes the database of syntheticDB at path.
func syntheticDBAt(t *testing.T, path string, encoders ...pixelEncoder) index.Store {
	t.Helper()
	ctx := context.Background()
	db, err := index.Open(path, index.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := index.FileStore(db)
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
		items = append(items, spaces.NewItem(img, spaces.Origin{Source: spaces.SpecSource(spec, i), Split: spec.Split(i).String(), Factors: &f}))
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
	return st
}

// measure prepares the probes of opts, then runs the report.
func measure(t *testing.T, st index.Store, opts Options) *Report {
	t.Helper()
	if err := Prepare(context.Background(), st, opts); err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// stable zeroes the figures of r that vary from run to run (times).
func stable(r *Report) *Report {
	for _, sr := range r.Spaces {
		sr.Seconds, sr.StageSeconds = 0, nil
	}
	return r
}

func jsonOf(t *testing.T, r *Report) []byte {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

var (
	colourOnly   = pixelEncoder{"colour-only", 32, hueVector}
	locationOnly = pixelEncoder{"location-only", 32, centroidVector}
)

func smallOptions(encoders ...pixelEncoder) Options {
	return Options{
		Bases: 40, Variants: 4, OrbitSets: 20, OrbitSize: 4, Augmentation: "A", Seed: 5,
		Encoders: func(s index.SpaceStore) (encoder.Encoder, error) {
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
	r := measure(t, db, smallOptions(colourOnly, locationOnly))
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
	r := measure(t, db, opts)
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
	first := measure(t, db, opts)
	items := db.Len()
	second := measure(t, db, opts)
	if db.Len() != items {
		t.Fatalf("the second report added %d items", db.Len()-items)
	}
	if a, b := jsonOf(t, stable(first)), jsonOf(t, stable(second)); !bytes.Equal(a, b) {
		t.Fatalf("the second report differs from the first:\n%s\n----\n%s", a, b)
	}
}

func TestRunReadsOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := index.Open(path, index.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	st := syntheticDBAt(t, path, colourOnly)
	opts := smallOptions(colourOnly)
	if _, err := Run(ctx, st, opts); !errors.Is(err, ErrNoProbes) {
		t.Fatalf("Run before Prepare: error %v, want ErrNoProbes", err)
	}
	if err := Prepare(ctx, st, opts); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ro, err := index.Open(path, index.Options{ReadOnly: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	r, err := Run(ctx, index.FileStore(ro), opts)
	if err != nil {
		t.Fatalf("Run on a read-only store: %v", err)
	}
	if len(r.Spaces) != 1 || len(r.Spaces[0].Interventions) != len(dataset.AllFactors) || r.Spaces[0].Orbit == nil {
		t.Fatalf("report of a read-only store lacks measurements: %+v", r.Spaces[0])
	}
}

func TestOptionsRejectNegatives(t *testing.T) {
	db := syntheticDB(t, colourOnly)
	for _, o := range []Options{{K: -1}, {Bases: -3}, {OrbitSets: -1}, {GridQueries: -1}} {
		if _, err := Run(context.Background(), db, o); !errors.Is(err, ErrOptions) {
			t.Errorf("Run(%+v): error %v, want ErrOptions", o, err)
		}
	}
}

func TestNoOrbitsNoGrid(t *testing.T) {
	db := syntheticDB(t, colourOnly)
	opts := smallOptions(colourOnly)
	opts.NoOrbits, opts.NoGrid = true, true
	r := measure(t, db, opts)
	if sr := r.Spaces[0]; sr.Orbit != nil || len(sr.Grid) != 0 {
		t.Fatalf("NoOrbits and NoGrid still gave orbit %v and %d grid rows", sr.Orbit, len(sr.Grid))
	}
}

// TestReportJSONGolden checks report.json against testdata/report.json;
// package render's golden report.md is drawn from that file.
func TestReportJSONGolden(t *testing.T) {
	db := syntheticDB(t, colourOnly, locationOnly)
	r := stable(measure(t, db, smallOptions(colourOnly, locationOnly)))
	r.Database = "synthetic.db"
	got := jsonOf(t, r)
	golden := filepath.Join("testdata", "report.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	// Figures are compared within a tolerance: distance kernels chosen
	// for the CPU may round the last bits differently.
	if diff := jsonDiff(t, got, want, 1e-6); diff != "" {
		t.Errorf("report.json differs from %s at %s (run with -update if the change is intended)", golden, diff)
	}
	// One style of keys: snake_case, no capitals.
	if keys := regexp.MustCompile(`"[^"]*[A-Z][^"]*":`).FindAll(got, -1); len(keys) > 0 {
		t.Errorf("report.json has keys that are not snake_case: %s", keys)
	}
}

// jsonDiff returns the path of the first difference between two JSON
// documents, numbers compared within tol, or "" when they agree.
func jsonDiff(t *testing.T, a, b []byte, tol float64) string {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, x, y any) string
	walk = func(path string, x, y any) string {
		switch xv := x.(type) {
		case map[string]any:
			yv, ok := y.(map[string]any)
			if !ok || len(xv) != len(yv) {
				return cmp.Or(path, "the root") // "" would say no difference
			}
			for k := range xv {
				if d := walk(path+"."+k, xv[k], yv[k]); d != "" {
					return d
				}
			}
		case []any:
			yv, ok := y.([]any)
			if !ok || len(xv) != len(yv) {
				return path
			}
			for i := range xv {
				if d := walk(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i]); d != "" {
					return d
				}
			}
		case float64:
			yv, ok := y.(float64)
			if !ok || math.Abs(xv-yv) > tol*max(1, math.Abs(yv)) {
				return fmt.Sprintf("%s (%v, want %v)", path, x, y)
			}
		default:
			if x != y {
				return fmt.Sprintf("%s (%v, want %v)", path, x, y)
			}
		}
		return ""
	}
	return walk("", x, y)
}

// TestKNNOfAnyLabel checks that k-NN accuracy is measured for every label
// the items carry, not only the colored shapes'.
func TestKNNOfAnyLabel(t *testing.T) {
	ctx := context.Background()
	db, err := index.Open(filepath.Join(t.TempDir(), "labels.db"), index.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := index.FileStore(db)
	var items []index.Item
	var flat []float32
	for i := range 200 {
		split := index.SplitTrain
		if i%4 == 0 {
			split = index.SplitVal
		}
		side := i % 2
		items = append(items, index.Item{
			Source: fmt.Sprintf("x%d", i), Hash: sha256.Sum256([]byte{byte(i), byte(i >> 8)}), Split: split,
			Labels: map[string]int{"side": side, "noise": (i * 7919) % 3},
		})
		// Two clusters by side; noise is not in the vectors.
		flat = append(flat, float32(2*side-1), float32(i%5)*0.01, 1)
	}
	ids, _, err := st.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := st.CreateSpace(ctx, index.SpaceConfig{Name: "s", Dim: 3, Encoder: index.Encoder{ID: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.AddVectors(ctx, ids, flat); err != nil {
		t.Fatal(err)
	}
	items2, err := loadItemLabels(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	knn, err := measureKNN(ctx, sp, items2, Options{K: 5}, func(string, int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]LabelAccuracy{}
	for _, a := range knn.accuracies {
		got[a.Label] = a
	}
	if a := got["side"]; a.Classes != 2 || a.Accuracy != 1 {
		t.Errorf("side: %+v, want 2 classes, accuracy 1", a)
	}
	if a := got["noise"]; a.Classes != 3 || a.Normalized > 0.3 {
		t.Errorf("noise: %+v, want 3 classes near chance", a)
	}
}
