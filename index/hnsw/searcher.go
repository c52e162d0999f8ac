package hnsw

// searcher holds the scratch space of one search or insertion: a visited
// set, the two heaps and buffers. Searchers are reused through the Graph's
// pool so that a search allocates nothing once the pool is warm.
type searcher struct {
	// visited[node] == generation marks a node visited in the current
	// search; bumping generation clears the set in O(1).
	visited    []uint32
	generation uint32

	candidates minHeap
	results    maxHeap
	sorted     []candidate // results in ascending order
	selected   []candidate // output of the neighbour heuristic
	pruneBuf   []candidate // neighbours of a node being pruned
	kept       []candidate // the pruned list
	links      []uint32    // a copy of a neighbour list taken under its lock

	// For quantized graphs: the query prepared for distances to codes,
	// the vector being inserted and another node's vector, decoded.
	prep     prepared
	inserted []float32
	decoded  []float32

	// distances counts distance computations, for the cost model.
	distances int

	sink float32 // see searchLayer
}

// getSearcher returns a searcher whose visited set covers n nodes, with a
// fresh generation.
func (g *Graph) getSearcher(n int) *searcher {
	s, _ := g.pool.Get().(*searcher)
	if s == nil {
		s = &searcher{}
	}
	if len(s.visited) < n {
		// Grow with headroom so that a growing graph does not reallocate
		// the set on every batch.
		s.visited = make([]uint32, n+n/4+64)
		s.generation = 0
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
	s.generation++
	if s.generation == 0 {
		clear(s.visited)
		s.generation = 1
	}
}
