package hnsw

// Analyzer reports measurements of a graph's shape, for tests and
// diagnostics. Its methods take the graph's read lock. It offers no
// compatibility guarantee: what is worth measuring changes with the
// implementation.
type Analyzer struct {
	Graph *Graph
}

// Height returns the number of layers.
func (a Analyzer) Height() int {
	a.Graph.mu.RLock()
	defer a.Graph.mu.RUnlock()
	return a.Graph.maxLevel + 1
}

// Topography returns the number of nodes on each layer, bottom first.
func (a Analyzer) Topography() []int {
	g := a.Graph
	g.mu.RLock()
	defer g.mu.RUnlock()
	counts := make([]int, g.maxLevel+1)
	for _, level := range g.levels[:g.n] {
		for l := 0; l <= int(level); l++ {
			counts[l]++
		}
	}
	return counts
}

// Connectivity returns the mean number of neighbours of a node on each
// layer, bottom first.
func (a Analyzer) Connectivity() []float64 {
	g := a.Graph
	g.mu.RLock()
	defer g.mu.RUnlock()
	sums := make([]float64, g.maxLevel+1)
	counts := make([]int, g.maxLevel+1)
	for node := range g.n {
		for l := 0; l <= int(g.levels[node]); l++ {
			sums[l] += float64(len(g.links(uint32(node), l)))
			counts[l]++
		}
	}
	for l := range sums {
		if counts[l] > 0 {
			sums[l] /= float64(counts[l])
		}
	}
	return sums
}

// Neighbors returns a copy of node's neighbour list on level (nil when the
// node is not on that level).
func (a Analyzer) Neighbors(node uint32, level int) []uint32 {
	g := a.Graph
	g.mu.RLock()
	defer g.mu.RUnlock()
	if int(node) >= g.n || level > int(g.levels[node]) || level < 0 {
		return nil
	}
	return append([]uint32(nil), g.links(node, level)...)
}

// Entry returns the entry point and its level (−1 for an empty graph).
func (a Analyzer) Entry() (node uint32, level int) {
	a.Graph.mu.RLock()
	defer a.Graph.mu.RUnlock()
	return a.Graph.entry, a.Graph.maxLevel
}
