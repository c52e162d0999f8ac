package hnsw

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Add inserts vectors as new nodes, in order, with one goroutine, and
// returns the number of the first. The vectors are copied. It panics if a
// vector's length is not Dim or a parameter is invalid.
func (g *Graph) Add(vectors ...[]float32) uint32 {
	flat := make([]float32, 0, len(vectors)*g.dim)
	for i, v := range vectors {
		if len(v) != g.dim {
			panic(fmt.Sprintf("hnsw: vector %d has dimension %d, graph has %d", i, len(v), g.dim))
		}
		flat = append(flat, v...)
	}
	return g.AddBatch(flat, 1)
}

// AddBatch inserts the len(vectors)/Dim vectors stored one after another in
// vectors as new nodes and returns the number of the first. The vectors are
// copied. With workers > 1 that many goroutines insert at once, as hnswlib
// does, and the resulting graph depends on their timing; with workers ≤ 1
// the graph depends only on the vectors, their order and the parameters.
// It panics if len(vectors) is not a multiple of Dim or a parameter is
// invalid.
func (g *Graph) AddBatch(vectors []float32, workers int) uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.freeze(); err != nil {
		panic(err)
	}
	if len(vectors)%g.dim != 0 {
		panic(fmt.Sprintf("hnsw: %d values are not a whole number of %d-dimensional vectors", len(vectors), g.dim))
	}
	count := len(vectors) / g.dim
	first := g.n
	total := first + count
	if total > math.MaxUint32 {
		panic("hnsw: more than 2³² nodes")
	}
	if total > cap(g.levels) {
		g.grow(max(total, cap(g.levels)+cap(g.levels)/2))
	}
	g.store(vectors)
	g.layer0 = append(g.layer0, make([]uint32, count*g.stride0)...)
	for node := first; node < total; node++ {
		level := g.randomLevel(uint32(node))
		g.levels = append(g.levels, uint8(level))
		g.upperOff = append(g.upperOff, uint32(len(g.upper)))
		if level > 0 {
			g.upper = append(g.upper, make([]uint32, level*g.strideUp)...)
		}
	}
	for len(g.deleted) < (total+63)/64 {
		g.deleted = append(g.deleted, 0)
	}
	g.n = total

	if workers <= 1 || count < 2*workers {
		s := g.getSearcher(total)
		for node := first; node < total; node++ {
			g.insert(s, uint32(node))
		}
		g.putSearcher(s)
		return uint32(first)
	}

	g.parallel = true
	var next atomic.Int64
	next.Store(int64(first))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := g.getSearcher(total)
			defer g.putSearcher(s)
			for {
				node := next.Add(1) - 1
				if node >= int64(total) {
					return
				}
				g.insert(s, uint32(node))
			}
		}()
	}
	wg.Wait()
	g.parallel = false
	return uint32(first)
}

// insert links node q, whose vector and level are already stored, into
// the graph (algorithm 1 of the paper, with the neighbour heuristic of
// algorithm 4).
func (g *Graph) insert(s *searcher, q uint32) {
	level := int(g.levels[q])
	off := int(q) * g.dim
	var qv []float32
	if g.quantized() {
		s.inserted = g.q.Decode(g.codes[off:off+g.dim], s.inserted[:0])
		s.prep.of = nil
		qv = s.inserted
	} else {
		qv = g.vectors[off : off+g.dim]
	}

	// A node that raises the top layer holds the entry lock for its whole
	// insertion, so that no other node becomes the entry point meanwhile.
	if g.parallel {
		g.entryMu.Lock()
	}
	entry, top := g.entry, g.maxLevel
	holdEntry := g.parallel && level > top
	if g.parallel && !holdEntry {
		g.entryMu.Unlock()
	}
	if top < 0 {
		g.entry, g.maxLevel = q, level
		if holdEntry {
			g.entryMu.Unlock()
		}
		return
	}

	s.nextGeneration()
	cur := candidate{dist: g.distance(s, qv, entry), node: entry}
	for l := top; l > level; l-- {
		cur = g.greedy(s, qv, cur, l)
	}
	for l := min(level, top); l >= 0; l-- {
		s.nextGeneration()
		s.visit(q) // another goroutine may have linked q already
		g.searchLayer(s, qv, cur, g.efc, l, nil)
		s.sorted = s.results.drainAscending(s.sorted[:0])
		if len(s.sorted) == 0 {
			continue // only q itself was reachable
		}
		s.selected = g.selectNeighbors(s, s.sorted, g.m, s.selected[:0])
		g.connect(s, q, l)
		cur = s.sorted[0]
	}

	if holdEntry {
		if level > g.maxLevel {
			g.entry, g.maxLevel = q, level
		}
		g.entryMu.Unlock()
	} else if !g.parallel && level > top {
		g.entry, g.maxLevel = q, level
	}
}

// greedy walks from cur to the node nearest to q on level, moving to a
// nearer neighbour until none is nearer.
func (g *Graph) greedy(s *searcher, q []float32, cur candidate, level int) candidate {
	for changed := true; changed; {
		changed = false
		links := g.readLinks(s, cur.node, level)
		for i, d := range g.distancesTo(s, q, links) {
			if d < cur.dist {
				cur = candidate{dist: d, node: links[i]}
				changed = true
			}
		}
	}
	return cur
}

// selectNeighbors appends to out at most m of cands (sorted nearest first
// by their distance to a base node) chosen by the heuristic of the paper's
// algorithm 4: a candidate is kept only if it is nearer to the base than
// to every candidate already kept. This keeps links pointing in diverse
// directions, which matters on clustered data. Fewer than m candidates are
// all kept, as in hnswlib.
func (g *Graph) selectNeighbors(s *searcher, cands []candidate, m int, out []candidate) []candidate {
	if len(cands) <= m {
		return append(out, cands...)
	}
	start := len(out)
	for _, c := range cands {
		if len(out)-start >= m {
			break
		}
		keep := true
		for _, r := range out[start:] {
			if g.nodeDistance(s, c.node, r.node) < c.dist {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

// connect gives q the neighbours in s.selected on level and adds q to
// each of theirs, pruning a full list with the heuristic.
func (g *Graph) connect(s *searcher, q uint32, level int) {
	g.lockNode(q)
	existing := g.links(q, level)
	if len(existing) == 0 {
		g.setLinks(q, level, s.selected)
	} else {
		// Another goroutine linked q here first: keep the best of both.
		g.mergeLinks(s, q, level, s.selected)
	}
	g.unlockNode(q)

	limit := g.maxLinks(level)
	for _, c := range s.selected {
		g.lockNode(c.node)
		if !g.hasLink(c.node, level, q) && !g.appendLink(c.node, level, q) {
			cands := append(s.pruneBuf[:0], candidate{dist: c.dist, node: q})
			links := g.links(c.node, level)
			for i, d := range g.nodeDistances(s, c.node, links) {
				cands = append(cands, candidate{dist: d, node: links[i]})
			}
			sortCandidates(cands)
			s.pruneBuf = cands
			s.kept = g.selectNeighbors(s, cands, limit, s.kept[:0])
			g.setLinks(c.node, level, s.kept)
		}
		g.unlockNode(c.node)
	}
}

// mergeLinks sets q's list on level to the heuristic's choice among its
// current neighbours and extra.
func (g *Graph) mergeLinks(s *searcher, q uint32, level int, extra []candidate) {
	cands := append(s.pruneBuf[:0], extra...)
	for _, nb := range g.links(q, level) {
		dup := false
		for _, c := range extra {
			if c.node == nb {
				dup = true
				break
			}
		}
		if !dup {
			cands = append(cands, candidate{dist: g.nodeDistance(s, q, nb), node: nb})
		}
	}
	sortCandidates(cands)
	s.pruneBuf = cands
	s.kept = g.selectNeighbors(s, cands, g.maxLinks(level), s.kept[:0])
	g.setLinks(q, level, s.kept)
}

// hasLink reports whether neighbour is in node's list on level.
func (g *Graph) hasLink(node uint32, level int, neighbour uint32) bool {
	for _, nb := range g.links(node, level) {
		if nb == neighbour {
			return true
		}
	}
	return false
}

func (g *Graph) lockNode(node uint32) {
	if g.parallel {
		g.nodeLocks[node%lockStripes].Lock()
	}
}

func (g *Graph) unlockNode(node uint32) {
	if g.parallel {
		g.nodeLocks[node%lockStripes].Unlock()
	}
}

// sortCandidates sorts a short slice nearest first (insertion sort: the
// slices hold at most 2·M+1 elements).
func sortCandidates(c []candidate) {
	for i := 1; i < len(c); i++ {
		x := c[i]
		j := i
		for j > 0 && c[j-1].dist > x.dist {
			c[j] = c[j-1]
			j--
		}
		c[j] = x
	}
}
