package dataset

import (
	"math/rand/v2"
	"testing"
)

// changedFields names the fields in which a and b differ.
func changedFields(a, b Factors) []string {
	var out []string
	add := func(differ bool, name string) {
		if differ {
			out = append(out, name)
		}
	}
	add(a.Shape != b.Shape, "shape")
	add(a.Hue != b.Hue, "hue")
	add(a.Saturation != b.Saturation, "saturation")
	add(a.Value != b.Value, "value")
	add(a.Radius != b.Radius, "radius")
	add(a.CX != b.CX, "cx")
	add(a.CY != b.CY, "cy")
	add(a.Rotation != b.Rotation, "rotation")
	return out
}

func TestVaryChangesExactlyOneFactor(t *testing.T) {
	const seed = 21
	t.Logf("seed %d", seed)
	res := 64
	spec := Spec{N: 20, Seed: seed, Res: res}
	// The fields each factor may change.
	allowed := map[Factor]map[string]bool{
		FactorShape:    {"shape": true},
		FactorColor:    {"hue": true},
		FactorLocation: {"cx": true, "cy": true},
		FactorSize:     {"radius": true},
		FactorRotation: {"rotation": true},
	}
	ranges := RangesAt(res)
	for _, factor := range AllFactors {
		t.Run(factor.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(factor)))
			for i := 0; i < spec.N; i++ {
				base := spec.Factors(i)
				items := Vary(base, factor, 8, res, rng)
				wantLen := 8
				if factor == FactorShape {
					wantLen = 3
				}
				if len(items) != wantLen {
					t.Fatalf("Vary returned %d items, want %d", len(items), wantLen)
				}
				seen := map[Factors]bool{}
				for k, f := range items {
					for _, field := range changedFields(base, f) {
						if !allowed[factor][field] {
							t.Fatalf("item %d variant %d: %s changed; only %s may", i, k, field, factor)
						}
					}
					if seen[f] {
						t.Fatalf("item %d: variant %d repeats another", i, k)
					}
					seen[f] = true
					if f.Hue < 0 || f.Hue >= 1 || f.Radius < ranges.Radius.Lo || f.Radius > ranges.Radius.Hi ||
						f.CX < ranges.Centre.Lo || f.CX > ranges.Centre.Hi || f.CY < ranges.Centre.Lo || f.CY > ranges.Centre.Hi {
						t.Fatalf("item %d variant %d: %+v is outside the factor ranges", i, k, f)
					}
					if f.Labels(res).Shape != int(f.Shape) {
						t.Fatalf("item %d variant %d: shape label %d", i, k, f.Labels(res).Shape)
					}
				}
			}
		})
	}
}

func TestVaryShapeGivesTheThreeShapes(t *testing.T) {
	base := DefaultSpec().Factors(0)
	items := Vary(base, FactorShape, 10, 64, rand.New(rand.NewPCG(1, 1)))
	for k, f := range items {
		if f.Shape != Shape(k) {
			t.Fatalf("variant %d is a %s, want %s", k, f.Shape, Shape(k))
		}
	}
}

func TestVarySpansTheRange(t *testing.T) {
	// Stratified values: with 8 variants, one per eighth of the hue circle,
	// so the 8 colour classes all occur.
	base := DefaultSpec().Factors(3)
	items := Vary(base, FactorColor, 8, 64, rand.New(rand.NewPCG(4, 4)))
	classes := map[int]bool{}
	for _, f := range items {
		classes[f.Labels(64).Color] = true
	}
	if len(classes) != 8 {
		t.Fatalf("8 hue variants cover %d colour classes, want 8", len(classes))
	}
}
