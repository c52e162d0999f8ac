package hnsw

import (
	"math"
	"math/rand/v2"
	"simsearch/index/vectortest"
	"slices"
	"sync"
	"testing"
)

func TestHeapsOrderCandidates(t *testing.T) {
	for _, size := range []int{1, 2, 3, 17, 200} {
		t.Run("", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(size), 1))
			var lo minHeap
			var hi maxHeap
			var want []float32
			for i := range size {
				d := float32(rng.IntN(50)) // ties on purpose
				lo.push(candidate{dist: d, node: uint32(i)})
				hi.push(candidate{dist: d, node: uint32(i)})
				want = append(want, d)
			}
			slices.Sort(want)
			for i := range size {
				if got := lo.pop().dist; got != want[i] {
					t.Fatalf("minHeap pop %d = %v, want %v", i, got, want[i])
				}
			}
			got := hi.drainAscending(nil)
			for i := range size {
				if got[i].dist != want[i] {
					t.Fatalf("maxHeap drained %d = %v, want %v", i, got[i].dist, want[i])
				}
			}
		})
	}
}

func TestMaxHeapReplaceTop(t *testing.T) {
	var h maxHeap
	for _, d := range []float32{5, 3, 9, 1, 7} {
		h.push(candidate{dist: d})
	}
	h.replaceTop(candidate{dist: 2})
	got := h.drainAscending(nil)
	want := []float32{1, 2, 3, 5, 7}
	for i := range want {
		if got[i].dist != want[i] {
			t.Fatalf("after replaceTop: %v, want %v", got, want)
		}
	}
}

func TestSearchReturnsAtMostKSortedWithDistances(t *testing.T) {
	t.Parallel()
	const dim, seed = 16, 3
	n := scaled(2000)
	t.Logf("seed %d", seed)
	vectors := clusteredVectors(seed, n, dim, 20, 1.0)
	queries := clusteredVectors(seed+1, 20, dim, 20, 1.0)
	for _, metric := range []Metric{Cosine, Euclidean} {
		g := NewGraph(dim)
		g.Metric = metric
		g.AddBatch(vectors, 1)
		for _, k := range []int{1, 5, 10, 64, n + 1} {
			for _, ef := range []int{0, 1, 10, 100} {
				for i := range 20 {
					q := queries[i*dim : (i+1)*dim]
					got := g.Search(q, k, ef, nil, nil)
					if len(got) > k || len(got) > n {
						t.Fatalf("%v k=%d ef=%d: %d results", metric, k, ef, len(got))
					}
					if len(got) < min(k, n) && ef >= k {
						t.Fatalf("%v k=%d ef=%d: only %d results", metric, k, ef, len(got))
					}
					for j, r := range got {
						want := metric.Distance(q, g.Vector(r.Node))
						if math.Abs(float64(r.Distance-want)) > 1e-5 {
							t.Fatalf("%v: result %d distance %v, want %v", metric, j, r.Distance, want)
						}
						if j > 0 && got[j-1].Distance > r.Distance {
							t.Fatalf("%v: results not sorted: %v", metric, got)
						}
					}
				}
			}
		}
	}
}

func TestRecallAtDefaultParameters(t *testing.T) {
	t.Parallel()
	const dim, k, seed = 128, 10, 11
	n := scaled(5000)
	t.Logf("seed %d", seed)
	vectors := vectortest.Latent(seed, n, dim, 32, 50, 1.0)
	queries := vectortest.Latent(seed+1, 100, dim, 32, 50, 1.0)
	for _, workers := range []int{1, 2} {
		g := NewGraph(dim)
		g.AddBatch(vectors, workers)
		var total float64
		for i := range 100 {
			q := queries[i*dim : (i+1)*dim]
			total += recall(g.Search(q, k, 0, nil, nil), bruteForce(Cosine, vectors, dim, q, k, nil))
		}
		if r := total / 100; r < 0.95 {
			t.Errorf("workers %d: recall@10 %.3f < 0.95", workers, r)
		} else {
			t.Logf("workers %d: recall@10 %.3f", workers, r)
		}
	}
}

func TestRecallOnHardData(t *testing.T) {
	// Full-rank clusters: the hard case, where only a broad search finds
	// the neighbours. v0.6.1 of coder/hnsw reached a few per cent here.
	t.Parallel()
	const dim, k, seed = 32, 10, 1
	n := scaled(5000)
	t.Logf("seed %d", seed)
	vectors := clusteredVectors(seed, n, dim, 50, 1.0)
	queries := clusteredVectors(seed+1, 100, dim, 50, 1.0)
	g := NewGraph(dim)
	g.AddBatch(vectors, 1)
	var total float64
	for i := range 100 {
		q := queries[i*dim : (i+1)*dim]
		total += recall(g.Search(q, k, 200, nil, nil), bruteForce(Cosine, vectors, dim, q, k, nil))
	}
	if r := total / 100; r < 0.98 {
		t.Errorf("recall@10 at ef 200: %.3f < 0.98", r)
	}
}

func TestSeededStructure(t *testing.T) {
	build := func() *Graph {
		g := NewGraph(1)
		g.Metric = Euclidean
		g.M = 4
		g.Ml = 1 / math.Log(2)
		g.Seed = 42
		for i := range 128 {
			g.Add([]float32{float32(i)})
		}
		return g
	}
	a, b := build(), build()
	// Levels depend only on the seed and the node number: halving layers.
	if got, want := (Analyzer{a}).Topography(), []int{128, 58, 31, 13, 5, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("topography %v, want %v", got, want)
	}
	for node := range uint32(128) {
		for l := range (Analyzer{a}).Height() {
			if x, y := (Analyzer{a}).Neighbors(node, l), (Analyzer{b}).Neighbors(node, l); !slices.Equal(x, y) {
				t.Fatalf("node %d level %d: %v vs %v", node, l, x, y)
			}
		}
	}
	// On a line the heuristic keeps one neighbour on each side.
	if got := (Analyzer{a}).Neighbors(64, 0); !slices.Equal(sortedCopy(got), []uint32{63, 65}) {
		t.Errorf("neighbours of 64 on layer 0: %v, want [63 65]", got)
	}
	got := a.Search([]float32{64.4}, 4, 0, nil, nil)
	var nodes []uint32
	for _, r := range got {
		nodes = append(nodes, r.Node)
	}
	if !slices.Equal(nodes, []uint32{64, 65, 63, 66}) {
		t.Errorf("nearest to 64.4: %v, want [64 65 63 66]", nodes)
	}
}

func sortedCopy(s []uint32) []uint32 {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestFilterRestrictsResults(t *testing.T) {
	t.Parallel()
	const dim, k, seed = 16, 10, 5
	n := scaled(3000)
	t.Logf("seed %d", seed)
	vectors := clusteredVectors(seed, n, dim, 10, 1.0)
	queries := clusteredVectors(seed+1, 50, dim, 10, 1.0)
	g := NewGraph(dim)
	g.AddBatch(vectors, 1)
	for _, share := range []int{2, 10} {
		accept := func(node uint32) bool { return node%uint32(share) == 0 }
		var total float64
		for i := range 50 {
			q := queries[i*dim : (i+1)*dim]
			got := g.Search(q, k, 100, accept, nil)
			if len(got) != k {
				t.Fatalf("1/%d filter: %d results, want %d", share, len(got), k)
			}
			for _, r := range got {
				if !accept(r.Node) {
					t.Fatalf("1/%d filter: node %d returned", share, r.Node)
				}
			}
			total += recall(got, bruteForce(Cosine, vectors, dim, q, k, accept))
		}
		if r := total / 50; r < 0.9 {
			t.Errorf("1/%d filter: recall %.3f < 0.9", share, r)
		}
	}
}

func TestDeleteThenAdd(t *testing.T) {
	// coder/hnsw v0.6.1 panicked on insertions after deletions.
	t.Parallel()
	const dim = 8
	seeds := uint64(10)
	if raceEnabled {
		seeds = 2
	}
	for seed := range seeds {
		vectors := clusteredVectors(seed, 3000, dim, 10, 1.0)
		g := NewGraph(dim)
		g.Seed = seed
		g.EfConstruction = 64
		g.AddBatch(vectors[:2000*dim], 1)
		rng := rand.New(rand.NewPCG(seed, 2))
		deleted := map[uint32]bool{}
		for range 10 {
			node := uint32(rng.IntN(2000))
			if g.Delete(node) != !deleted[node] {
				t.Fatalf("seed %d: Delete(%d) reported wrongly", seed, node)
			}
			deleted[node] = true
		}
		g.AddBatch(vectors[2000*dim:], 1)
		if g.Deleted() != len(deleted) || g.Len() != 3000 {
			t.Fatalf("seed %d: %d deleted of %d, want %d of 3000", seed, g.Deleted(), g.Len(), len(deleted))
		}
		for node := range deleted {
			for _, r := range g.Search(g.Vector(node), 20, 50, nil, nil) {
				if deleted[r.Node] {
					t.Fatalf("seed %d: deleted node %d returned", seed, r.Node)
				}
			}
		}
	}
}

func TestAddCopiesVectors(t *testing.T) {
	g := NewGraph(2)
	g.Metric = Euclidean
	v := []float32{1, 2}
	g.Add(v)
	v[0] = 100
	if got := g.Vector(0); got[0] != 1 {
		t.Fatalf("graph kept the caller's slice: %v", got)
	}
}

func TestConcurrentSearchAndAdd(t *testing.T) {
	// Run with -race: searches beside a parallel insertion.
	const dim = 16
	vectors := clusteredVectors(9, 4000, dim, 10, 1.0)
	g := NewGraph(dim)
	g.AddBatch(vectors[:500*dim], 2)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []Result
			for i := range 300 {
				q := vectors[((i*7+w)%500)*dim:][:dim]
				dst = g.Search(q, 5, 20, nil, dst[:0])
				if len(dst) == 0 {
					t.Error("no results")
					return
				}
			}
		}()
	}
	for b := 500; b < 4000; b += 500 {
		g.AddBatch(vectors[b*dim:(b+500)*dim], 2)
	}
	wg.Wait()
	if g.Len() != 4000 {
		t.Fatalf("Len %d, want 4000", g.Len())
	}
}

func TestNewGraphPanicsOnBadParameters(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for M = 1")
		}
	}()
	g := NewGraph(4)
	g.M = 1
	g.Add([]float32{1, 0, 0, 0})
}

func TestSearchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const dim = 16
	vectors := clusteredVectors(4, 2000, dim, 10, 1.0)
	g := NewGraph(dim)
	g.AddBatch(vectors, 1)
	dst := make([]Result, 0, 10)
	q := vectors[:dim]
	g.Search(q, 10, 50, nil, dst) // warm the pool
	if allocs := testing.AllocsPerRun(100, func() { dst = g.Search(q, 10, 50, nil, dst[:0]) }); allocs > 0 {
		t.Errorf("Search allocates %.1f times per call", allocs)
	}
}
