package report

import (
	"math"
	"math/rand/v2"

	"github.com/viterin/vek/vek32"
)

// Distance is the Euclidean distance between u and v, the distance of the
// specification's diameters and margins. For unit vectors it equals
// sqrt(2(1 − u·v)).
func Distance(u, v []float32) float64 {
	return float64(vek32.Distance(u, v))
}

// SetGeometry is the geometry of a collection of invariance sets: groups of
// vectors that an encoder invariant to the varied property would map to one
// point.
type SetGeometry struct {
	// Sets is the number of sets and Members the number of vectors in all.
	Sets    int `json:"sets"`
	Members int `json:"members"`
	// Within is the mean distance between two members of the same set.
	Within float64 `json:"within"`
	// Between is the mean distance between members of different sets,
	// estimated from BetweenPairs pairs (all of them when the collection is
	// small enough).
	Between      float64 `json:"between"`
	BetweenPairs int     `json:"between_pairs"`
	// Sensitivity is Within / Between: near 0 when every set collapses to a
	// point (invariance), near 1 or above when varying the property moves a
	// vector as far as changing the image altogether.
	Sensitivity float64 `json:"sensitivity"`
	// Diameters[i] is the largest distance between two members of set i.
	Diameters []float64 `json:"-"`
	// Margins[i] is the distance from a member of set i to the nearest
	// member of any other set.
	Margins []float64 `json:"-"`
	// Separated is the number of sets whose diameter is below their margin;
	// when it equals Sets, every diameter_i < margin_{i→j} for i ≠ j and the
	// sets can be told apart by nearest neighbours.
	Separated int `json:"separated"`
}

// SeparatedShare is the share of sets whose diameter is below their margin.
func (g SetGeometry) SeparatedShare() float64 {
	if g.Sets == 0 {
		return 0
	}
	return float64(g.Separated) / float64(g.Sets)
}

// AllSeparated reports whether diameter_i < margin_{i→j} holds for every pair
// of sets i ≠ j. Since margin_i is the smallest margin_{i→j}, this is
// diameter_i < margin_i for every i.
func (g SetGeometry) AllSeparated() bool { return g.Sets > 0 && g.Separated == g.Sets }

// maxExactPairs bounds the number of between-set pairs measured exactly;
// above it the mean is estimated from this many sampled pairs.
const maxExactPairs = 4_000_000

// MeasureSets computes the geometry of sets, each a list of indexes into
// vectors, given each set's margin (from ExactMargins or from index
// queries). Between-set distances are sampled with rng when there are more
// than a few million pairs. It panics if len(margins) != len(sets).
func MeasureSets(vectors [][]float32, sets [][]int, margins []float64, rng *rand.Rand) SetGeometry {
	if len(margins) != len(sets) {
		panic("report: MeasureSets needs one margin per set")
	}
	g := SetGeometry{Sets: len(sets), Diameters: make([]float64, len(sets)), Margins: margins}
	var withinSum float64
	var withinPairs int
	owner := make([]int, 0, len(vectors))
	var members []int
	for i, set := range sets {
		for a := range set {
			members = append(members, set[a])
			owner = append(owner, i)
			for b := a + 1; b < len(set); b++ {
				d := Distance(vectors[set[a]], vectors[set[b]])
				withinSum += d
				withinPairs++
				g.Diameters[i] = max(g.Diameters[i], d)
			}
		}
		if g.Diameters[i] < margins[i] {
			g.Separated++
		}
	}
	g.Members = len(members)
	if withinPairs > 0 {
		g.Within = withinSum / float64(withinPairs)
	}

	allPairs := len(members) * (len(members) - 1) / 2
	var betweenSum float64
	if allPairs-withinPairs <= maxExactPairs {
		for a := range members {
			for b := a + 1; b < len(members); b++ {
				if owner[a] != owner[b] {
					betweenSum += Distance(vectors[members[a]], vectors[members[b]])
					g.BetweenPairs++
				}
			}
		}
	} else {
		for g.BetweenPairs < maxExactPairs {
			a, b := rng.IntN(len(members)), rng.IntN(len(members))
			if owner[a] == owner[b] {
				continue
			}
			betweenSum += Distance(vectors[members[a]], vectors[members[b]])
			g.BetweenPairs++
		}
	}
	if g.BetweenPairs > 0 {
		g.Between = betweenSum / float64(g.BetweenPairs)
	}
	if g.Between > 0 {
		g.Sensitivity = g.Within / g.Between
	}
	return g
}

// ExactMargins returns, for each set, the distance from any of its members
// to the nearest member of another set, by brute force.
func ExactMargins(vectors [][]float32, sets [][]int) []float64 {
	margins := make([]float64, len(sets))
	for i, set := range sets {
		margins[i] = math.Inf(1)
		for j, other := range sets {
			if i == j {
				continue
			}
			for _, s := range set {
				for _, t := range other {
					margins[i] = min(margins[i], Distance(vectors[s], vectors[t]))
				}
			}
		}
	}
	return margins
}

// Alignment is E‖f(x) − f(x⁺)‖² over the positive pairs, here every pair of
// members of the same set, on L2-normalized vectors (Wang and Isola, 2020).
// Lower is better aligned; 0 means every set collapsed to a point.
func Alignment(vectors [][]float32, sets [][]int) float64 {
	var sum float64
	var pairs int
	for _, set := range sets {
		for a := range set {
			for b := a + 1; b < len(set); b++ {
				d := Distance(normalized(vectors[set[a]]), normalized(vectors[set[b]]))
				sum += d * d
				pairs++
			}
		}
	}
	if pairs == 0 {
		return 0
	}
	return sum / float64(pairs)
}

// Uniformity is log E exp(−2‖f(x) − f(y)‖²) over pairs of distinct vectors
// on L2-normalized vectors (Wang and Isola, 2020): lower is more uniform on
// the sphere, 0 means every vector is the same point. It uses all pairs of at
// most maxUniformityVectors vectors drawn with rng.
func Uniformity(vectors [][]float32, rng *rand.Rand) float64 {
	sample := sampleVectors(vectors, maxUniformityVectors, rng)
	// On unit vectors d ≤ 2, so every term is at least exp(−8): the mean
	// cannot underflow and needs no log-sum-exp.
	var sum float64
	var pairs int
	for a := range sample {
		for b := a + 1; b < len(sample); b++ {
			d := Distance(sample[a], sample[b])
			sum += math.Exp(-2 * d * d)
			pairs++
		}
	}
	if pairs == 0 {
		return 0
	}
	return math.Log(sum / float64(pairs))
}

// maxUniformityVectors bounds the vectors whose pairs Uniformity averages.
const maxUniformityVectors = 2000

// FeatureStd is the mean over dimensions of the standard deviation of the
// L2-normalized vectors. Vectors spread over the sphere give about 1/√d;
// a collapsed encoder gives 0.
func FeatureStd(vectors [][]float32) float64 {
	if len(vectors) < 2 {
		return 0
	}
	dim := len(vectors[0])
	mean := make([]float64, dim)
	sq := make([]float64, dim)
	for _, v := range vectors {
		for d, x := range normalized(v) {
			mean[d] += float64(x)
			sq[d] += float64(x) * float64(x)
		}
	}
	n := float64(len(vectors))
	var std float64
	for d := range dim {
		m := mean[d] / n
		variance := sq[d]/n - m*m
		std += math.Sqrt(max(variance, 0) * n / (n - 1))
	}
	return std / float64(dim)
}

// normalized returns v scaled to unit length (v itself when it already is,
// or when it is zero).
func normalized(v []float32) []float32 {
	norm := float64(vek32.Norm(v))
	if norm == 0 || math.Abs(norm-1) < 1e-6 {
		return v
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / norm)
	}
	return out
}

func sampleVectors(vectors [][]float32, n int, rng *rand.Rand) [][]float32 {
	if len(vectors) <= n {
		out := make([][]float32, len(vectors))
		for i, v := range vectors {
			out[i] = normalized(v)
		}
		return out
	}
	out := make([][]float32, n)
	for i, j := range rng.Perm(len(vectors))[:n] {
		out[i] = normalized(vectors[j])
	}
	return out
}
