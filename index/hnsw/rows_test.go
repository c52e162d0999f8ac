package hnsw

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDistancesTo checks the batched distances against Metric.Distance for
// both metrics, float32 and int8 storage, dimensions the row kernels take (multiples of 16) and ones
// they leave to the Go loop, every prefetch distance from none to past the
// end, and batches from empty to longer than a layer-0 list.
func TestDistancesTo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	defer func(ahead int) { rowsAhead = ahead }(rowsAhead)
	for _, dim := range []int{1, 7, 16, 48, 100, 128} {
		const n = 300
		vectors := clusteredVectors(uint64(dim), n, dim, 10, 1.0)
		for _, c := range []struct {
			metric    Metric
			quantized bool
		}{{Cosine, false}, {Euclidean, false}, {Cosine, true}, {Euclidean, true}} {
			metric := c.metric
			g := NewGraph(dim)
			g.Metric = metric
			if c.quantized {
				g.Quantizer = FitQuantizer(vectors, dim)
			}
			g.Add(vectors[:dim])
			g.store(vectors[dim:])
			g.n = n
			s := g.getSearcher(n)
			q := vectors[5*dim : 6*dim]
			for _, ahead := range []int{0, 1, 4, 50} {
				rowsAhead = ahead
				for _, count := range []int{0, 1, 3, 32, 70} {
					nodes := make([]uint32, count)
					for i := range nodes {
						nodes[i] = uint32(rng.IntN(n))
					}
					got := g.distancesTo(s, q, nodes)
					if len(got) != count {
						t.Fatalf("dim %d: %d distances for %d nodes", dim, len(got), count)
					}
					for i, nb := range nodes {
						want := metric.Distance(q, g.Vector(nb)) // decoded when quantized
						if math.Abs(float64(got[i]-want)) > 1e-5 {
							t.Fatalf("%s quantized %v dim %d ahead %d: node %d distance %v, want %v", metric, c.quantized, dim, ahead, nb, got[i], want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkDistancesTo measures a layer-0 list's worth of distances (32
// nodes spread over a graph larger than the caches) in one call.
func BenchmarkDistancesTo(b *testing.B) {
	const dim, n = 128, 1 << 18
	vectors := clusteredVectors(1, n, dim, 100, 1.0)
	g := NewGraph(dim)
	g.Reserve(n) // as AddBatch and Import allocate: advised for huge pages
	g.Add(vectors[:dim])
	g.store(vectors[dim:])
	g.n = n
	s := g.getSearcher(n)
	rng := rand.New(rand.NewPCG(1, 2))
	lists := make([][]uint32, 4096)
	for i := range lists {
		for range 32 {
			lists[i] = append(lists[i], uint32(rng.IntN(n)))
		}
	}
	q := vectors[:dim]
	for _, ahead := range []int{0, 2, 4, 8} {
		b.Run(fmt.Sprintf("ahead=%d", ahead), func(b *testing.B) {
			defer func(old int) { rowsAhead = old }(rowsAhead)
			rowsAhead = ahead
			var sum float32
			i := 0
			for b.Loop() {
				sum += g.distancesTo(s, q, lists[i%len(lists)])[0]
				i++
			}
			s.sink = sum
			b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "distances/s")
		})
	}
}
