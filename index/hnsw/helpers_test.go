package hnsw

import (
	"math"
	"math/rand/v2"
	"sort"
)

// clusteredVectors returns n unit vectors of dimension dim drawn around
// clusters random centres: centre + noise of norm about spread, then
// normalized. The same seed gives the same vectors.
func clusteredVectors(seed uint64, n, dim, clusters int, spread float64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	centres := make([]float64, clusters*dim)
	for c := range clusters {
		randomUnit(rng, centres[c*dim:(c+1)*dim])
	}
	out := make([]float32, n*dim)
	v := make([]float64, dim)
	sigma := spread / math.Sqrt(float64(dim))
	for i := range n {
		c := rng.IntN(clusters)
		var norm float64
		for j := range dim {
			v[j] = centres[c*dim+j] + sigma*rng.NormFloat64()
			norm += v[j] * v[j]
		}
		norm = math.Sqrt(norm)
		for j := range dim {
			out[i*dim+j] = float32(v[j] / norm)
		}
	}
	return out
}

func randomUnit(rng *rand.Rand, v []float64) {
	var norm float64
	for j := range v {
		v[j] = rng.NormFloat64()
		norm += v[j] * v[j]
	}
	norm = math.Sqrt(norm)
	for j := range v {
		v[j] /= norm
	}
}

// bruteForce returns the k nearest of vectors to q under metric.
func bruteForce(metric Metric, vectors []float32, dim int, q []float32, k int, accept func(uint32) bool) []Result {
	n := len(vectors) / dim
	all := make([]Result, 0, n)
	for i := range n {
		if accept != nil && !accept(uint32(i)) {
			continue
		}
		all = append(all, Result{Node: uint32(i), Distance: metric.Distance(q, vectors[i*dim:(i+1)*dim])})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].Distance < all[b].Distance })
	if len(all) > k {
		all = all[:k]
	}
	return all
}

// recall is the share of truth's nodes found in got.
func recall(got, truth []Result) float64 {
	if len(truth) == 0 {
		return 1
	}
	set := make(map[uint32]bool, len(truth))
	for _, r := range truth {
		set[r.Node] = true
	}
	hits := 0
	for _, r := range got {
		if set[r.Node] {
			hits++
		}
	}
	return float64(hits) / float64(len(truth))
}

// scaled returns n, or a third of it under the race detector.
func scaled(n int) int {
	if raceEnabled {
		return n / 3
	}
	return n
}
