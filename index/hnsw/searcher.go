package hnsw

// searcher holds the scratch space of one search or insertion: a visited
// set, the two heaps and buffers. Searchers are reused through the Graph's
// pool so that a search allocates nothing once the pool is warm.
type searcher struct {
	// visited has bit node%64 of word node/64 set for each node visited in
	// the current search: one bit a node keeps the set in the caches (a
	// million nodes take 125 KiB) where a stamp per node missed them.
	// touched lists the words set, so that clearing the set costs what the
	// search visited, not the graph's size.
	visited []uint64
	touched []uint32

	candidates minHeap
	results    maxHeap
	sorted     []candidate // results in ascending order
	selected   []candidate // output of the neighbour heuristic
	pruneBuf   []candidate // neighbours of a node being pruned
	kept       []candidate // the pruned list
	links      []uint32    // a copy of a neighbour list taken under its lock
	batch      []uint32    // the nodes whose distances are computed together
	dists      []float32   // their distances (distancesTo)

	// For quantized graphs: the query prepared for distances to codes,
	// the vector being inserted and another node's vector, decoded.
	prep     prepared
	inserted []float32
	decoded  []float32

	// distances counts distance computations, for the cost model.
	distances int

	sink float32 // keeps a benchmark's results alive
}

// getSearcher returns a searcher whose visited set covers n nodes, empty.
func (g *Graph) getSearcher(n int) *searcher {
	s, _ := g.pool.Get().(*searcher)
	if s == nil {
		s = &searcher{}
	}
	if words := (n + 63) / 64; len(s.visited) < words {
		// Grow with headroom so that a growing graph does not reallocate
		// the set on every batch.
		s.visited = make([]uint64, words+words/4+1)
		s.touched = s.touched[:0]
	}
	s.distances = 0
	s.prep.of = nil
	s.nextGeneration()
	return s
}

func (g *Graph) putSearcher(s *searcher) {
	g.distanceCount.Add(uint64(s.distances))
	g.pool.Put(s)
}

// nextGeneration starts a new, empty visited set.
func (s *searcher) nextGeneration() {
	for _, w := range s.touched {
		s.visited[w] = 0
	}
	s.touched = s.touched[:0]
}

// seen reports whether node is in the visited set.
func (s *searcher) seen(node uint32) bool { return s.visited[node>>6]&(1<<(node&63)) != 0 }

// visit adds node to the visited set.
func (s *searcher) visit(node uint32) {
	w := node >> 6
	if s.visited[w] == 0 {
		s.touched = append(s.touched, w)
	}
	s.visited[w] |= 1 << (node & 63)
}
