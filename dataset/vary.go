package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Vary returns items equal to base except in one factor, for measuring what
// an encoder does when only that factor changes.
//
// For FactorShape the result is the three shapes (circle, square, triangle)
// and n is ignored. For the other factors it is n items whose values are
// stratified over the factor's range at resolution res: item k's value is
// drawn uniformly from the k-th of n equal parts of the range, so the items
// span the range. FactorColor changes the hue, FactorSize the radius,
// FactorRotation the rotation (which leaves a circle's image unchanged), and
// FactorLocation the centre: x and y each stratified, the strata of y
// shuffled so the centres do not lie on a diagonal.
//
// Vary panics if factor is not one of AllFactors or n < 1.
func Vary(base Factors, factor Factor, n int, res int, rng *rand.Rand) []Factors {
	if factor == FactorShape {
		out := make([]Factors, numShapes)
		for k := range out {
			out[k] = base
			out[k].Shape = Shape(k)
		}
		return out
	}
	if n < 1 {
		panic(fmt.Sprintf("dataset: Vary with n = %d", n))
	}
	ranges := RangesAt(res)
	out := make([]Factors, n)
	stratum := func(k int, r Range) float64 {
		return r.at((float64(k) + rng.Float64()) / float64(n))
	}
	switch factor {
	case FactorColor:
		for k := range out {
			out[k] = base
			out[k].Hue = math.Mod(stratum(k, Range{0, 1}), 1)
		}
	case FactorSize:
		for k := range out {
			out[k] = base
			out[k].Radius = stratum(k, ranges.Radius)
		}
	case FactorRotation:
		for k := range out {
			out[k] = base
			out[k].Rotation = math.Mod(stratum(k, Range{0, 2 * math.Pi}), 2*math.Pi)
		}
	case FactorLocation:
		rows := rng.Perm(n)
		for k := range out {
			out[k] = base
			out[k].CX = stratum(k, ranges.Centre)
			out[k].CY = stratum(rows[k], ranges.Centre)
		}
	default:
		panic(fmt.Sprintf("dataset: Vary of unknown factor %d", int(factor)))
	}
	return out
}
