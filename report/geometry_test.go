package report

import (
	"math"
	"math/rand/v2"
	"testing"
)

func unit(x, y float64) []float32 {
	n := math.Hypot(x, y)
	return []float32{float32(x / n), float32(y / n)}
}

func TestDistanceOfUnitVectorsMatchesCosine(t *testing.T) {
	u, v := unit(1, 0), unit(1, 1)
	want := math.Sqrt(2 * (1 - math.Cos(math.Pi/4)))
	if got := Distance(u, v); math.Abs(got-want) > 1e-6 {
		t.Fatalf("Distance = %v, want sqrt(2(1−cos 45°)) = %v", got, want)
	}
}

// bruteForceSets computes what MeasureSets and ExactMargins must return, the
// slow and obvious way, from the definitions of the specification.
func bruteForceSets(vectors [][]float32, sets [][]int) (diameters, margins []float64, within, between float64, all bool) {
	var wSum, bSum float64
	var wN, bN int
	all = true
	for i, si := range sets {
		diameters = append(diameters, 0)
		margins = append(margins, math.Inf(1))
		for _, s := range si {
			for _, t := range si {
				diameters[i] = math.Max(diameters[i], Distance(vectors[s], vectors[t]))
			}
		}
		for j, sj := range sets {
			if i == j {
				continue
			}
			marginIJ := math.Inf(1)
			for _, s := range si {
				for _, t := range sj {
					marginIJ = math.Min(marginIJ, Distance(vectors[s], vectors[t]))
				}
			}
			margins[i] = math.Min(margins[i], marginIJ)
		}
	}
	// The condition of the specification, pair by pair.
	for i, si := range sets {
		for j, sj := range sets {
			if i == j {
				continue
			}
			marginIJ := math.Inf(1)
			for _, s := range si {
				for _, t := range sj {
					marginIJ = math.Min(marginIJ, Distance(vectors[s], vectors[t]))
				}
			}
			if !(diameters[i] < marginIJ) {
				all = false
			}
		}
	}
	for i, si := range sets {
		for a, s := range si {
			for _, t := range si[a+1:] {
				wSum += Distance(vectors[s], vectors[t])
				wN++
			}
			for j := i + 1; j < len(sets); j++ {
				for _, t := range sets[j] {
					bSum += Distance(vectors[s], vectors[t])
					bN++
				}
			}
		}
	}
	return diameters, margins, wSum / float64(wN), bSum / float64(bN), all
}

func TestMeasureSetsEqualsBruteForce(t *testing.T) {
	for _, spread := range []float64{0.01, 0.3, 2} {
		seed := uint64(7)
		t.Logf("seed %d, spread %v", seed, spread)
		rng := rand.New(rand.NewPCG(seed, 0))
		var vectors [][]float32
		var sets [][]int
		for i := range 12 {
			centre := 2 * math.Pi * float64(i) / 12
			var set []int
			for range 2 + rng.IntN(4) {
				angle := centre + spread*(rng.Float64()-0.5)
				set = append(set, len(vectors))
				vectors = append(vectors, unit(math.Cos(angle), math.Sin(angle)))
			}
			sets = append(sets, set)
		}
		wantDiam, wantMargin, wantWithin, wantBetween, wantAll := bruteForceSets(vectors, sets)
		margins := ExactMargins(vectors, sets)
		g := MeasureSets(vectors, sets, margins, rng)
		for i := range sets {
			if math.Abs(g.Diameters[i]-wantDiam[i]) > 1e-9 || math.Abs(margins[i]-wantMargin[i]) > 1e-9 {
				t.Errorf("spread %v set %d: diameter %v margin %v, want %v %v", spread, i, g.Diameters[i], margins[i], wantDiam[i], wantMargin[i])
			}
		}
		if math.Abs(g.Within-wantWithin) > 1e-9 || math.Abs(g.Between-wantBetween) > 1e-9 {
			t.Errorf("spread %v: within %v between %v, want %v %v", spread, g.Within, g.Between, wantWithin, wantBetween)
		}
		if g.AllSeparated() != wantAll {
			t.Errorf("spread %v: AllSeparated = %v, want %v", spread, g.AllSeparated(), wantAll)
		}
		if math.Abs(g.Sensitivity-wantWithin/wantBetween) > 1e-9 {
			t.Errorf("spread %v: sensitivity %v, want %v", spread, g.Sensitivity, wantWithin/wantBetween)
		}
	}
}

func TestMeasureSetsOfCollapsedSetsIsInvariant(t *testing.T) {
	// Every set maps to one point: sensitivity 0, all separated.
	vectors := [][]float32{unit(1, 0), unit(1, 0), unit(0, 1), unit(0, 1), unit(-1, 0), unit(-1, 0)}
	sets := [][]int{{0, 1}, {2, 3}, {4, 5}}
	g := MeasureSets(vectors, sets, ExactMargins(vectors, sets), rand.New(rand.NewPCG(1, 1)))
	if g.Sensitivity != 0 || !g.AllSeparated() || g.SeparatedShare() != 1 {
		t.Fatalf("collapsed sets: sensitivity %v, separated %d/%d", g.Sensitivity, g.Separated, g.Sets)
	}
}

func TestAlignmentAndUniformityByHand(t *testing.T) {
	// Three unit vectors at 0°, 90° and 180°: squared distances 2, 2 and 4.
	vectors := [][]float32{unit(1, 0), unit(0, 1), unit(-1, 0)}
	// One positive pair (0°, 90°): alignment = 2.
	if got := Alignment(vectors, [][]int{{0, 1}, {2}}); math.Abs(got-2) > 1e-6 {
		t.Errorf("Alignment = %v, want 2", got)
	}
	// Uniformity = log((e^−4 + e^−4 + e^−8) / 3).
	want := math.Log((2*math.Exp(-4) + math.Exp(-8)) / 3)
	if got := Uniformity(vectors, rand.New(rand.NewPCG(1, 1))); math.Abs(got-want) > 1e-5 {
		t.Errorf("Uniformity = %v, want %v", got, want)
	}
	// Unnormalized input is normalized first.
	scaled := [][]float32{{3, 0}, {0, 5}}
	if got := Alignment(scaled, [][]int{{0, 1}}); math.Abs(got-2) > 1e-6 {
		t.Errorf("Alignment of scaled vectors = %v, want 2", got)
	}
}

func TestFeatureStd(t *testing.T) {
	collapsed := [][]float32{unit(1, 1), unit(1, 1), unit(1, 1)}
	if got := FeatureStd(collapsed); got > 1e-6 {
		t.Errorf("FeatureStd of collapsed vectors = %v, want 0", got)
	}
	// ±e1, ±e2 once each: per dimension the values are 1, −1, 0, 0 with
	// sample std sqrt(2/3).
	spread := [][]float32{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}
	if got, want := FeatureStd(spread), math.Sqrt(2.0/3); math.Abs(got-want) > 1e-6 {
		t.Errorf("FeatureStd = %v, want %v", got, want)
	}
}
