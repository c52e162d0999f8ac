package hnsw

import (
	"fmt"
	"math"

	"github.com/viterin/vek/vek32"
)

// Metric names the distance a Graph uses. Both are computed with AVX2+FMA
// through github.com/viterin/vek where the CPU has them.
type Metric uint8

const (
	// Cosine is 1 − u·v for unit vectors u and v. The graph does not
	// normalize: callers store and query unit vectors. The Euclidean distance
	// between unit vectors is sqrt(2·(1 − u·v)); see EuclideanFromCosine.
	Cosine Metric = iota + 1

	// Euclidean is ‖u − v‖.
	Euclidean
)

// String returns "cosine" or "euclidean".
func (m Metric) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case Euclidean:
		return "euclidean"
	}
	return fmt.Sprintf("Metric(%d)", uint8(m))
}

// valid reports whether m is a known metric.
func (m Metric) valid() bool { return m == Cosine || m == Euclidean }

// Distance returns the distance between a and b under m. It panics if the
// lengths differ or are zero.
func (m Metric) Distance(a, b []float32) float32 {
	if m == Cosine {
		return 1 - vek32.Dot(a, b)
	}
	return vek32.Distance(a, b)
}

// EuclideanFromCosine converts a Cosine distance between unit vectors into
// their Euclidean distance, ‖u − v‖ = sqrt(2·(1 − u·v)). Rounding can make
// 1 − u·v slightly negative for equal vectors; that gives 0.
func EuclideanFromCosine(d float32) float32 {
	if d <= 0 {
		return 0
	}
	return float32(math.Sqrt(2 * float64(d)))
}

// dot and euclidean are the two kernels, named so the hot loops read well.
func dot(a, b []float32) float32       { return vek32.Dot(a, b) }
func euclidean(a, b []float32) float32 { return vek32.Distance(a, b) }
