package hnsw

import (
	"flag"
	"fmt"
	"testing"
	"time"
)

var benchSize = flag.Int("hnsw.n", 20000, "number of vectors in the hnsw package benchmarks")

// BenchmarkGraph builds a graph of -hnsw.n clustered 128-d unit vectors
// with 1 and 2 goroutines and measures search speed and recall@10 at a few
// ef values.
func BenchmarkGraph(b *testing.B) {
	const dim, k = 128, 10
	n := *benchSize
	vectors := clusteredVectors(1, n, dim, 100, 1.0)
	queries := clusteredVectors(2, 1000, dim, 100, 1.0)
	truth := make([][]Result, 1000)
	for i := range truth {
		truth[i] = bruteForce(Cosine, vectors, dim, queries[i*dim:(i+1)*dim], k, nil)
	}
	for _, workers := range []int{1, 2} {
		var g *Graph
		b.Run(fmt.Sprintf("insert/n=%d/workers=%d", n, workers), func(b *testing.B) {
			for b.Loop() {
				g = NewGraph(dim)
				g.AddBatch(vectors, workers)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
		})
		for _, ef := range []int{10, 20, 40, 80} {
			b.Run(fmt.Sprintf("search/n=%d/workers=%d/ef=%d", n, workers, ef), func(b *testing.B) {
				if g == nil { // the insert benchmark was filtered out
					g = NewGraph(dim)
					g.AddBatch(vectors, workers)
					b.ResetTimer()
				}
				b.ReportAllocs()
				// One operation is a pass over all the queries.
				var dst []Result
				var total float64
				searched := 0
				start := time.Now()
				for b.Loop() {
					for q := range truth {
						dst = g.Search(queries[q*dim:(q+1)*dim], k, ef, nil, dst[:0])
						total += recall(dst, truth[q])
					}
					searched += len(truth)
				}
				b.ReportMetric(float64(searched)/time.Since(start).Seconds(), "queries/s")
				b.ReportMetric(total/float64(searched), "recall@10")
			})
		}
	}
}

// BenchmarkDistance measures one 128-d distance from a query to a node:
// the float32 kernel (vek) against the int8 codes' (pure Go).
func BenchmarkDistance(b *testing.B) {
	const dim, n = 128, 4096
	vectors := clusteredVectors(1, n, dim, 10, 1.0)
	for _, quantized := range []bool{false, true} {
		g := NewGraph(dim)
		if quantized {
			g.Quantizer = FitQuantizer(vectors, dim)
		}
		g.AddBatch(vectors[:dim], 1)
		g.store(vectors[dim:]) // the nodes' storage only: no links needed
		g.n = n
		s := g.getSearcher(n)
		q := vectors[:dim]
		name := "float32"
		if quantized {
			name = "int8"
		}
		b.Run(name, func(b *testing.B) {
			var sum float32
			node := uint32(0)
			for b.Loop() {
				sum += g.distance(s, q, node)
				node = (node + 1) % n
			}
			s.sink = sum
		})
	}
}
