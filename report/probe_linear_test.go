package report

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/spaces"
)

// gaussianMatrix returns n × dim standard normal draws.
func gaussianMatrix(rng *rand.Rand, n, dim int) *mat.Dense {
	x := mat.NewDense(n, dim, nil)
	for r := range n {
		for c := range dim {
			x.Set(r, c, rng.NormFloat64())
		}
	}
	return x
}

func TestProbeClassesOnKnownGeometry(t *testing.T) {
	const seed = 7
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	const n, nv, dim, classes = 800, 400, 6, 4
	x, xv := gaussianMatrix(rng, n, dim), gaussianMatrix(rng, nv, dim)
	// The class is the quadrant of the first two coordinates: linearly
	// decodable. The other label is a coin toss: not decodable.
	quadrant := func(x *mat.Dense, r int) int {
		c := 0
		if x.At(r, 0) > 0 {
			c++
		}
		if x.At(r, 1) > 0 {
			c += 2
		}
		return c
	}
	y, yv := make([]int, n), make([]int, nv)
	noise, noiseV := make([]int, n), make([]int, nv)
	for r := range n {
		y[r], noise[r] = quadrant(x, r), rng.IntN(classes)
	}
	for r := range nv {
		yv[r], noiseV[r] = quadrant(xv, r), rng.IntN(classes)
	}
	standardize(x, xv)
	p := ProbeClasses(x, y, xv, yv, classes, seed)
	if p.Accuracy < 0.93 || p.Normalized < 0.9 {
		t.Errorf("quadrant probe: accuracy %.3f (normalized %.3f), want above 0.93", p.Accuracy, p.Normalized)
	}
	if p.Chance < 0.2 || p.Chance > 0.35 {
		t.Errorf("quadrant chance %.3f, want about 1/4", p.Chance)
	}
	q := ProbeClasses(x, noise, xv, noiseV, classes, seed)
	if q.Normalized > 0.1 {
		t.Errorf("coin-toss probe: normalized %.3f, want about 0", q.Normalized)
	}
	// Deterministic: the same data give the same probe.
	if again := ProbeClasses(x, y, xv, yv, classes, seed); again != p {
		t.Errorf("second probe %+v differs from the first %+v", again, p)
	}
}

func TestProbeRegressionOnKnownGeometry(t *testing.T) {
	const seed = 9
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	const n, nv, dim = 600, 300, 5
	x, xv := gaussianMatrix(rng, n, dim), gaussianMatrix(rng, nv, dim)
	target := func(x *mat.Dense, r int) []float64 {
		return []float64{2*x.At(r, 0) - x.At(r, 1) + 0.05*rng.NormFloat64(), x.At(r, 2)}
	}
	var y, yv, noise, noiseV [][]float64
	for r := range n {
		y, noise = append(y, target(x, r)), append(noise, []float64{rng.NormFloat64()})
	}
	for r := range nv {
		yv, noiseV = append(yv, target(xv, r)), append(noiseV, []float64{rng.NormFloat64()})
	}
	standardize(x, xv)
	if p := ProbeRegression(x, y, xv, yv, seed); p.R2 < 0.99 {
		t.Errorf("linear target: R² %.4f, want above 0.99", p.R2)
	}
	if p := ProbeRegression(x, noise, xv, noiseV, seed); p.R2 > 0.05 {
		t.Errorf("independent target: R² %.4f, want about 0 or below", p.R2)
	}
}

// drownedColour is a 5-d encoder that keeps colour linearly but tiny beside
// location: hue on a circle of radius 0.03, the centroid scaled by 3, on a
// sphere of radius 5. The
// nearest neighbours share location, an intervention on colour hardly moves
// a vector, and a linear probe still reads the colour.
type drownedColour struct{ pixelEncoder }

func (drownedColour) Dim() int { return 5 }
func (e drownedColour) Info() encoder.Info {
	info := e.pixelEncoder.Info()
	info.Dim = 5
	return info
}
func (e drownedColour) Embed(_ context.Context, images []*image.RGBA) ([][]float32, error) {
	out := make([][]float32, len(images))
	for i, img := range images {
		h, l := hueVector(img), centroidVector(img)
		// The last coordinate makes every norm 5, so that the store's
		// normalization keeps the geometry linear.
		a, b, c, d := 3*l[0], 3*l[1], 0.03*h[0], 0.03*h[1]
		out[i] = []float32{a, b, c, d, float32(math.Sqrt(25 - float64(a*a+b*b+c*c+d*d)))}
	}
	return out, nil
}

func TestDrownedFactorIsNotNearButDecodable(t *testing.T) {
	ctx := context.Background()
	enc := drownedColour{pixelEncoder{name: "drowned-colour", res: 32}}
	db, err := index.Open(filepath.Join(t.TempDir(), "drowned.db"), index.Options{Workers: 1})
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
		f := spec.Factors(i)
		items = append(items, spaces.NewItem(img, spaces.Origin{Source: spaces.SpecSource(spec, i), Split: spec.Split(i).String(), Factors: &f}))
		images = append(images, img)
	}
	ids, _, err := db.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	space, err := db.CreateSpace(ctx, index.SpaceConfig{Name: enc.name, Dim: enc.Dim(), Encoder: index.Encoder{ID: enc.name, Resolution: enc.res}})
	if err != nil {
		t.Fatal(err)
	}
	vectors, _ := enc.Embed(ctx, images)
	var flat []float32
	for _, v := range vectors {
		flat = append(flat, v...)
	}
	if _, err := space.AddVectors(ctx, ids, flat); err != nil {
		t.Fatal(err)
	}
	opts := Options{Bases: 20, Variants: 4, NoOrbits: true, NoGrid: true, Seed: 5,
		Encoders: func(index.SpaceStore) (encoder.Encoder, error) { return enc, nil }}
	r := measure(t, st, opts)
	sr := r.Spaces[0]
	var colour *FactorVerdict
	for i := range sr.Verdicts {
		if sr.Verdicts[i].Factor == "color" {
			colour = &sr.Verdicts[i]
		}
	}
	if colour == nil || colour.Witnesses == nil {
		t.Fatalf("no colour verdict with witnesses: %+v", sr.Verdicts)
	}
	w := colour.Witnesses
	t.Logf("%s", w.Words)
	if w.Near != WitnessNo || w.Moved != WitnessNo || w.Decodable != WitnessYes || !w.Disagree {
		t.Errorf("colour witnesses %+v, want not near, not moved, decodable", w)
	}
	if !strings.Contains(w.Words, "invariant in distance, but decodable (probe 0.9") {
		t.Errorf("colour words %q, want invariant in distance, but decodable (probe 0.9x)", w.Words)
	}
	// Location is near, moved and decodable: the witnesses agree.
	for _, v := range sr.Verdicts {
		if v.Factor == "location" && (v.Witnesses.Disagree || v.Witnesses.Decodable != WitnessYes) {
			t.Errorf("location witnesses %+v, want agreement", v.Witnesses)
		}
	}
	var hue *FactorProbe
	for i := range sr.FactorProbes {
		if sr.FactorProbes[i].Factor == "hue" {
			hue = &sr.FactorProbes[i]
		}
	}
	if hue == nil || hue.R2 < 0.9 || hue.Target != "cos/sin 2πh" {
		t.Errorf("hue probe %+v, want R² above 0.9 on cos/sin 2πh", hue)
	}
	// Varying location alone moves a vector across the whole space: every
	// location set reaches into another; varying shape moves nothing, and
	// the shape sets stay apart.
	for _, o := range sr.Overlap {
		switch {
		case o.Group == "location" && (o.ConditionHolds || o.Overlapping != o.Sets):
			t.Errorf("location overlap %+v, want every set overlapping", o)
		case o.Group == "shape" && (!o.ConditionHolds || o.Overlapping != 0 || o.WorstRatio >= 1):
			t.Errorf("shape overlap %+v, want no set overlapping", o)
		}
	}
	if math.IsNaN(hue.R2) {
		t.Error("hue R² is NaN")
	}
}

func TestWitnessWords(t *testing.T) {
	for _, c := range []struct {
		name string
		w    Witnesses
		want string
	}{
		{"invariant but decodable", Witnesses{Near: WitnessNo, Moved: WitnessNo, Decodable: WitnessYes}, "color: invariant in distance, but decodable (probe 0.93)"},
		{"kept", Witnesses{Near: WitnessYes, Moved: WitnessYes, Decodable: WitnessYes}, "color: kept (near, moved and decodable)"},
		{"ignored", Witnesses{Near: WitnessNo, Moved: WitnessNo, Decodable: WitnessNo}, "color: ignored (not near, not moved, not decodable)"},
		{"moved not near", Witnesses{Near: WitnessNo, Moved: WitnessYes, Decodable: WitnessYes}, "color: moved (sensitivity 0.60) and decodable (probe 0.93), but not near (k-NN score 0.05)"},
		{"partly", Witnesses{Near: WitnessPartly, Moved: WitnessYes}, "color: moved (sensitivity 0.60); partly near (k-NN score 0.05)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := witnessWords("color", c.w, 0.05, 0.6, 0.93); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
