package index

import (
	"sync"

	"github.com/viterin/vek/vek32"

	"simsearch/index/hnsw"
)

// selection is the set of a space's nodes that match the static part of a
// filter, as a bitset and as a list, built once and reused by every query
// with the same filter until the space or the items change.
type selection struct {
	bits    []uint64
	nodes   []uint32
	count   int
	atNodes int // graph nodes when built
	atItems int // catalog items when built

	atCatalog *catalog // the catalog it was built from
}

func (sel *selection) has(node uint32) bool {
	i := int(node / 64)
	return i < len(sel.bits) && sel.bits[i]&(1<<(node%64)) != 0
}

const maxSelections = 64

// selection returns the cached selection for key, building it from m over
// the first nodes nodes if needed. The caller holds s.mu for reading.
func (s *Space) selection(key string, m *matcher, nodes int) *selection {
	catItems := 0
	if m.cat != nil {
		catItems = m.cat.n
	}
	s.selMu.Lock()
	defer s.selMu.Unlock()
	// A catalog rebuilt after SetLabels has as many items as the old one
	// but other labels: the selection is of one catalog.
	if sel, ok := s.selections[key]; ok && sel.atNodes == nodes && sel.atItems == catItems && sel.atCatalog == m.cat {
		return sel
	}
	sel := &selection{bits: make([]uint64, (nodes+63)/64), atNodes: nodes, atItems: catItems, atCatalog: m.cat}
	for node := range nodes {
		if m.matchStatic(s.nodeItem[node]) {
			sel.bits[node/64] |= 1 << (node % 64)
			sel.nodes = append(sel.nodes, uint32(node))
		}
	}
	sel.count = len(sel.nodes)
	if s.selections == nil || len(s.selections) >= maxSelections {
		s.selections = map[string]*selection{}
	}
	s.selections[key] = sel
	return sel
}

// invalidateSelections drops the cached selections. The caller holds s.mu.
func (s *Space) invalidateSelections() {
	s.selMu.Lock()
	s.selections = nil
	s.selMu.Unlock()
}

// topK keeps the k smallest distances seen, as a max-heap.
type topK struct {
	k     int
	items []hnsw.Result
}

func (h *topK) reset(k int) {
	h.k = k
	h.items = h.items[:0]
}

// worst is the distance a candidate must beat to enter.
func (h *topK) worst() float32 {
	if len(h.items) < h.k {
		return float32(maxFloat32)
	}
	return h.items[0].Distance
}

const maxFloat32 = 3.40282346638528859811704183484516925440e+38

func (h *topK) offer(node uint32, d float32) {
	it := hnsw.Result{Node: node, Distance: d}
	if len(h.items) < h.k {
		h.items = append(h.items, it)
		i := len(h.items) - 1
		for i > 0 {
			parent := (i - 1) / 2
			if h.items[parent].Distance >= d {
				break
			}
			h.items[i] = h.items[parent]
			i = parent
		}
		h.items[i] = it
		return
	}
	if d >= h.items[0].Distance {
		return
	}
	n := len(h.items)
	i := 0
	for {
		child := 2*i + 1
		if child >= n {
			break
		}
		if right := child + 1; right < n && h.items[right].Distance > h.items[child].Distance {
			child = right
		}
		if d >= h.items[child].Distance {
			break
		}
		h.items[i] = h.items[child]
		i = child
	}
	h.items[i] = it
}

// drain appends the kept results to dst, nearest first, and empties h.
func (h *topK) drain(dst []hnsw.Result) []hnsw.Result {
	start := len(dst)
	dst = append(dst, h.items...)
	out := dst[start:]
	// Heap-sort in place: repeatedly move the maximum to the end.
	for end := len(out) - 1; end > 0; end-- {
		out[0], out[end] = out[end], out[0]
		i := 0
		for {
			child := 2*i + 1
			if child >= end {
				break
			}
			if right := child + 1; right < end && out[right].Distance > out[child].Distance {
				child = right
			}
			if out[i].Distance >= out[child].Distance {
				break
			}
			out[i], out[child] = out[child], out[i]
			i = child
		}
	}
	h.items = h.items[:0]
	return dst
}

// exactSearch compares q with the vectors of sel's nodes (every node below
// n when sel is nil) that skip does not reject, and appends the k nearest
// to dst, nearest first, with the graph's metric distances. A large scan
// is split over workers goroutines: it is bound by memory bandwidth, which
// one core does not saturate.
func exactSearch(g *vectorView, q []float32, k int, sel *selection, n int, skip func(uint32) bool, workers int, h *topK, dst []hnsw.Result) []hnsw.Result {
	total := n
	if sel != nil {
		total = len(sel.nodes)
	}
	if workers <= 1 || total*g.dim < exactParallelMin {
		h.reset(k)
		exactScan(g, q, sel, 0, total, skip, h)
		return h.drain(dst)
	}
	parts := make([]topK, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w].reset(k)
			exactScan(g, q, sel, w*total/workers, (w+1)*total/workers, skip, &parts[w])
		}()
	}
	wg.Wait()
	h.reset(k)
	for _, part := range parts {
		for _, r := range part.items {
			h.offer(r.Node, r.Distance)
		}
	}
	return h.drain(dst)
}

// exactParallelMin is the number of values (vectors × dimension) from
// which one exact search splits its scan: 8 MiB of vectors.
const exactParallelMin = 1 << 21

// exactScan offers to h the nodes at positions [lo, hi) of sel (node
// numbers themselves when sel is nil) that skip does not reject.
func exactScan(g *vectorView, q []float32, sel *selection, lo, hi int, skip func(uint32) bool, h *topK) {
	dim := g.dim
	cosine := g.cosine
	worst := h.worst()
	if sel == nil && skip == nil && cosine {
		// The common case, as tight as a plain scan.
		g.span(lo, hi, func(first int, vectors []float32) {
			for i, off := first, 0; off < len(vectors); i, off = i+1, off+dim {
				if d := 1 - vek32.Dot(q, vectors[off:off+dim:off+dim]); d < worst {
					h.offer(uint32(i), d)
					worst = h.worst()
				}
			}
		})
		return
	}
	cur := viewCursor{v: g}
	for i := lo; i < hi; i++ {
		node := uint32(i)
		if sel != nil {
			node = sel.nodes[i]
		}
		if skip != nil && skip(node) {
			continue
		}
		v := cur.at(node)
		var d float32
		if cosine {
			d = 1 - vek32.Dot(q, v)
		} else {
			d = vek32.Distance(q, v)
		}
		if d < worst {
			h.offer(node, d)
			worst = h.worst()
		}
	}
}

// exactBlockBytes is how many bytes of vectors exactSearchMany compares
// with every query of a group before moving on, so that they are read from
// memory once per group instead of once per query: a quarter of the 512 KiB
// L2 cache of the machine measured in BENCHMARKS.md.
const exactBlockBytes = 128 << 10

// exactSearchMany is exactSearch for several queries at once, reading the
// vectors block by block. heaps must hold one topK per query; results are
// appended to dsts[i].
func exactSearchMany(g *vectorView, queries [][]float32, k int, sel *selection, n int, skips []func(uint32) bool, heaps []topK, dsts [][]hnsw.Result) {
	for i := range queries {
		heaps[i].reset(k)
	}
	total := n
	if sel != nil {
		total = len(sel.nodes)
	}
	block := max(1, exactBlockBytes/(4*g.dim))
	for start := 0; start < total; start += block {
		end := min(start+block, total)
		for qi, q := range queries {
			exactScan(g, q, sel, start, end, skips[qi], &heaps[qi])
		}
	}
	for i := range queries {
		dsts[i] = heaps[i].drain(dsts[i])
	}
}
