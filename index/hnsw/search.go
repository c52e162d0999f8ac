package hnsw

import (
	"fmt"
	"math"
	"unsafe"
)

// Result is one node found by Search with its distance to the query under
// the graph's Metric: a plain value.
type Result struct {
	Node     uint32
	Distance float32
}

// Search appends to dst the at most k nodes nearest to query, nearest
// first, and returns dst. ef is the breadth of the search on the bottom
// layer (EfSearch when ef ≤ 0, and never less than k): higher finds the
// true neighbours more often, more slowly.
//
// accept, when not nil, restricts the results to the nodes for which it
// returns true; the search still walks through the others, and continues
// until it holds ef accepted nodes or runs out of candidates, so a filter
// that accepts few nodes makes it slow (an exact scan of the accepted
// nodes is then faster). Deleted nodes are never returned. accept is
// called from the calling goroutine only.
//
// It panics if len(query) is not Dim.
func (g *Graph) Search(query []float32, k, ef int, accept func(node uint32) bool, dst []Result) []Result {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if len(query) != g.dim {
		panic(fmt.Sprintf("hnsw: query has dimension %d, graph has %d", len(query), g.dim))
	}
	if k <= 0 || g.n == 0 || g.maxLevel < 0 {
		return dst
	}
	if ef <= 0 {
		ef = g.EfSearch
	}
	ef = max(ef, k)
	if g.deletedCount > 0 {
		filter := accept
		accept = func(node uint32) bool {
			return !g.isDeleted(node) && (filter == nil || filter(node))
		}
	}

	s := g.getSearcher(g.n)
	cur := candidate{dist: g.distance(s, query, g.entry), node: g.entry}
	for l := g.maxLevel; l > 0; l-- {
		cur = g.greedy(s, query, cur, l)
	}
	g.searchLayer(s, query, cur, ef, 0, accept)
	for len(s.results) > k {
		s.results.pop()
	}
	s.sorted = s.results.drainAscending(s.sorted[:0])
	for _, c := range s.sorted {
		dst = append(dst, Result{Node: c.node, Distance: c.dist})
	}
	g.searches.Add(1)
	g.searchDistances.Add(uint64(s.distances))
	g.putSearcher(s)
	return dst
}

// searchLayer is the paper's algorithm 2: a best-first search on one layer
// from ep, keeping the ef nearest accepted nodes found in s.results (a
// max-heap) and the nodes still to expand in s.candidates (a min-heap). It
// stops when the nearest unexpanded candidate is farther than the farthest
// kept result (and, with a filter, ef results are kept). The visited set
// must be empty (nextGeneration).
func (g *Graph) searchLayer(s *searcher, q []float32, ep candidate, ef, level int, accept func(uint32) bool) {
	s.candidates = s.candidates[:0]
	s.results = s.results[:0]

	s.visit(ep.node)
	s.candidates.push(ep)
	lower := float32(math.Inf(1))
	if accept == nil || accept(ep.node) {
		s.results.push(ep)
		lower = ep.dist
	}
	for len(s.candidates) > 0 {
		c := s.candidates[0]
		if c.dist > lower && (accept == nil || len(s.results) >= ef) {
			break
		}
		s.candidates.pop()
		links := g.readLinks(s, c.node, level)
		if len(s.candidates) > 0 {
			// The nearest candidate left is likely the next one expanded:
			// start loading its list while the distances below compute.
			prefetch(unsafe.Pointer(&g.slot(s.candidates[0].node, level)[0]))
		}
		s.batch = s.batch[:0]
		for _, nb := range links {
			if !s.seen(nb) {
				s.visit(nb)
				s.batch = append(s.batch, nb)
			}
		}
		dists := g.distancesTo(s, q, s.batch)
		for i, nb := range s.batch {
			d := dists[i]
			if len(s.results) >= ef && d >= lower {
				continue
			}
			s.candidates.push(candidate{dist: d, node: nb})
			if accept != nil && !accept(nb) {
				continue
			}
			if len(s.results) < ef {
				s.results.push(candidate{dist: d, node: nb})
			} else {
				s.results.replaceTop(candidate{dist: d, node: nb})
			}
			lower = s.results[0].dist
		}
	}
}

// SearchStats returns the number of searches run so far and the distances
// they computed, for a caller's cost model.
func (g *Graph) SearchStats() (searches, distances uint64) {
	return g.searches.Load(), g.searchDistances.Load()
}
