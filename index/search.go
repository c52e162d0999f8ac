package index

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/viterin/vek/vek32"
	"golang.org/x/sync/errgroup"

	"simsearch/index/hnsw"
)

// Method is how a search finds neighbours.
type Method uint8

const (
	// Auto picks Exact or HNSW per query, whichever the cost model says is
	// faster: exact for small spaces and for filters that match few items.
	Auto Method = iota
	// HNSW walks the graph: approximate, fast on large spaces.
	HNSW
	// Exact compares the query with every matching vector: the ground
	// truth, fast on small sets.
	Exact
)

// String returns "auto", "hnsw" or "exact".
func (m Method) String() string {
	switch m {
	case Auto:
		return "auto"
	case HNSW:
		return "hnsw"
	case Exact:
		return "exact"
	}
	return fmt.Sprintf("method(%d)", uint8(m))
}

// MarshalText writes the method's name, for JSON.
func (m Method) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads a method's name, for JSON.
func (m *Method) UnmarshalText(b []byte) error {
	v, err := ParseMethod(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseMethod returns the method named s ("auto", "hnsw" or "exact").
func ParseMethod(s string) (Method, error) {
	for _, m := range []Method{Auto, HNSW, Exact} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: search method %q: want auto, hnsw or exact", ErrInvalid, s)
}

// SearchOptions configure a search. The zero value asks for the 10
// nearest ordinary items with the space's default breadth. It is a plain
// value, read and not kept by the search.
type SearchOptions struct {
	// K is the number of neighbours wanted; 0 means 10. At most 100,000.
	K int
	// Ef is the HNSW search breadth; 0 means the space's EfSearch. It is
	// raised to K. With a filter, ef counts matching items only, so the
	// search walks further the fewer items match.
	Ef int
	// Filter restricts the items returned.
	Filter Filter
	// Method chooses the algorithm; Auto (the zero value) picks per query.
	Method Method
}

const maxK = 100_000

// Result is one neighbour: an item and its Euclidean distance to the query
// (between unit vectors in a Cosine space). Searches return new slices of
// them, owned by the caller.
type Result struct {
	ID       ItemID  `json:"id"`
	Distance float32 `json:"distance"`
}

// Cost model for Auto, in units of one distance computation of an exact
// scan (a sequential pass over contiguous vectors). A distance computed
// while walking the graph costs hnswDistanceCost of those (random memory
// access, heap and visited-set work); a graph search at breadth ef on a
// graph with bottom-layer degree 2M computes about hnswDistancesPerEf·ef·2M
// distances, and a filter keeping a share s of the items makes it walk
// about 1/s times as far. Measured by BenchmarkCrossover (BENCHMARKS.md).
const (
	hnswDistanceCost   = 2.0
	hnswDistancesPerEf = 0.6
)

// plan is a search prepared for execution.
type plan struct {
	k, ef    int
	method   Method
	sel      *selection // nil: every node matches the static filter
	matcher  *matcher
	exclude  func(node uint32) bool // the filter's exclusions; nil: none
	nodes    int                    // nodes in the graph when planned
	workers  int                    // goroutines one exact search may use
	selected int                    // nodes matching the static filter
	full     *vectorView            // the vectors in full precision, set by withVectors
}

// prepare validates opts and plans a search. The caller holds s.mu for
// reading and the graph is loaded.
func (s *Space) prepare(opts SearchOptions) (*plan, error) {
	k := opts.K
	if k == 0 {
		k = 10
	}
	if k < 0 || k > maxK {
		return nil, fmt.Errorf("%w: k = %d, want 1 to %d", ErrInvalid, opts.K, maxK)
	}
	if opts.Ef < 0 {
		return nil, fmt.Errorf("%w: ef = %d, want ≥ 0", ErrInvalid, opts.Ef)
	}
	if opts.Method > Exact {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, opts.Method)
	}
	if err := opts.Filter.validate(); err != nil {
		return nil, err
	}
	ef := opts.Ef
	if ef == 0 {
		ef = s.rec.graph.EfSearch
	}
	p := &plan{k: k, ef: max(ef, k), nodes: len(s.nodeItem), workers: s.db.opts.Workers}

	anyProbes := s.db.ProbeCount() > 0
	f := &opts.Filter
	var cat *catalog
	if f.needsCatalog(anyProbes) {
		var err error
		if cat, err = s.db.loadCatalog(); err != nil {
			return nil, err
		}
	}
	m := compileFilter(f, cat, anyProbes)
	p.matcher = m
	p.selected = p.nodes
	if !m.acceptsAll() {
		p.sel = s.selection(f.staticKey(anyProbes), m, p.nodes)
		p.selected = p.sel.count
	}

	// No explicit widening for a filter: the graph search counts only
	// matching nodes towards ef and walks on until it holds ef of them, so
	// with a share s of the nodes matching it already covers about ef/s
	// nodes. Measured on 50,000 clustered vectors, a filter keeping 60 %,
	// 30 % or 10 % of them gives a higher recall at the same ef than no
	// filter (BENCHMARKS.md); widening ef further bought little recall for
	// its cost.
	share := float64(p.selected) / float64(max(p.nodes, 1))

	p.method = opts.Method
	if p.method == Auto {
		p.method = HNSW
		exactCost := float64(p.selected)
		hnswCost := hnswDistanceCost * hnswDistancesPerEf * float64(p.ef*2*s.rec.graph.M) / max(share, 1e-9)
		if exactCost <= hnswCost {
			p.method = Exact
		}
	}

	if m.hasExclusions() {
		p.exclude = func(node uint32) bool { return m.excluded(s.nodeItem[node]) }
	}
	return p, nil
}

// Plan returns the method a search with opts would use (Exact or HNSW),
// with the number of the space's vectors its filter keeps. It loads the
// space if needed.
func (s *Space) Plan(ctx context.Context, opts SearchOptions) (method Method, matching int, err error) {
	if err := s.Load(ctx); err != nil {
		return 0, 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.prepare(opts)
	if err != nil {
		return 0, 0, fmt.Errorf("search space %q: %w", s.name, err)
	}
	return p.method, p.selected, nil
}

// scratch holds per-goroutine buffers for searches.
type scratch struct {
	full    *vectorView // the plan's, for the batch's get
	query   []float32
	results []hnsw.Result
	heap    topK
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Search returns the opts.K items nearest to query (at most K, fewer only
// when fewer match the filter), nearest first, with Euclidean distances.
// query must have the space's dimension; it is normalized in a Cosine
// space. It loads the space on first use.
func (s *Space) Search(query []float32, opts SearchOptions) ([]Result, error) {
	if err := s.Load(context.Background()); err != nil {
		return nil, err
	}
	if err := s.checkVectors(query, 1); err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.prepare(opts)
	if err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	var out []Result
	err = s.withVectors(func(v *vectorView) error {
		p.full = v
		out = s.run(p, query, sc, nil)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	return out, nil
}

// SearchItem searches with the stored vector of item id, leaving the item
// itself out of the results. It returns an error wrapping ErrNoItem when
// the item has no vector in the space.
func (s *Space) SearchItem(id ItemID, opts SearchOptions) ([]Result, error) {
	out, err := s.SearchItems(context.Background(), []ItemID{id}, opts)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// SearchBatch runs one search per query (queries holds them one after
// another) with Options.Workers goroutines and returns their results in
// order.
func (s *Space) SearchBatch(ctx context.Context, queries []float32, opts SearchOptions) ([][]Result, error) {
	if err := s.Load(ctx); err != nil {
		return nil, err
	}
	dim := s.Dim()
	if len(queries)%dim != 0 {
		return nil, fmt.Errorf("search space %q: %w: %d values are not whole %d-d vectors", s.name, ErrInvalid, len(queries), dim)
	}
	count := len(queries) / dim
	if err := s.checkVectors(queries, count); err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	return s.batch(ctx, count, opts, func(i int, _ *scratch) ([]float32, ItemID, bool, error) {
		return queries[i*dim : (i+1)*dim], 0, false, nil
	})
}

// SearchItems runs SearchItem for each of ids with Options.Workers
// goroutines: the report's "each validation item queries the training
// items" is SearchItems(ctx, valIDs, SearchOptions{Filter: Filter{Splits:
// []string{SplitTrain}}}).
func (s *Space) SearchItems(ctx context.Context, ids []ItemID, opts SearchOptions) ([][]Result, error) {
	if err := s.Load(ctx); err != nil {
		return nil, err
	}
	return s.batch(ctx, len(ids), opts, func(i int, sc *scratch) ([]float32, ItemID, bool, error) {
		id := ids[i]
		if int(id) >= len(s.itemNode) || s.itemNode[id] == noNode {
			return nil, 0, false, fmt.Errorf("item %d: %w (it has no vector in space %q)", id, ErrNoItem, s.name)
		}
		return sc.full.at(s.itemNode[id]), id, true, nil
	})
}

// batch runs count searches, getting query i from get, on the DB's
// workers. get is called with s.mu held for reading.
func (s *Space) batch(ctx context.Context, count int, opts SearchOptions, get func(i int, sc *scratch) (query []float32, self ItemID, excludeSelf bool, err error)) ([][]Result, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.prepare(opts)
	if err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	out := make([][]Result, count)
	// An exact search reads every matching vector; groups of queries
	// share each read (see exactSearchMany).
	group := 4
	grouped := p.method == Exact && count > 1
	if grouped {
		group = exactGroup
	}
	workers := min(s.db.opts.Workers, max(count/(4*group), 1))
	err = s.withVectors(func(v *vectorView) error {
		p.full = v
		return s.runBatch(ctx, p, count, group, grouped, workers, get, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// runBatch is batch's work on the workers, with p.full set.
func (s *Space) runBatch(ctx context.Context, p *plan, count, group int, grouped bool, workers int, get func(i int, sc *scratch) ([]float32, ItemID, bool, error), out [][]Result) error {
	g, gctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	for range workers {
		work := func() error {
			sc := scratchPool.Get().(*scratch)
			defer scratchPool.Put(sc)
			sc.full = p.full
			defer func() { sc.full = nil }()
			var eg exactGroupScratch
			for {
				from := int(next.Add(int64(group))) - group
				if from >= count {
					return nil
				}
				to := min(from+group, count)
				if err := gctx.Err(); err != nil {
					return err
				}
				if grouped {
					if err := s.runExactGroup(p, from, to, get, sc, &eg, out); err != nil {
						return fmt.Errorf("search space %q: %w", s.name, err)
					}
					continue
				}
				for i := from; i < to; i++ {
					q, self, excludeSelf, err := get(i, sc)
					if err != nil {
						return fmt.Errorf("search space %q: %w", s.name, err)
					}
					var skip *ItemID
					if excludeSelf {
						skip = &self
					}
					out[i] = s.run(p, q, sc, skip)
				}
			}
		}
		if s.rec.storage.quantized() {
			// The workers read vectors in bbolt's mapping: a damaged
			// file's fault becomes ErrCorrupt, as in the transaction's
			// own goroutine.
			g.Go(func() error { return guard(work) })
		} else {
			g.Go(work)
		}
	}
	return g.Wait()
}

// exactGroup is how many queries of a batch share each pass over the
// vectors in an exact search.
const exactGroup = 16

// exactGroupScratch holds a worker's buffers for runExactGroup.
type exactGroupScratch struct {
	queries [][]float32
	buffers [][]float32
	skips   []func(uint32) bool
	heaps   []topK
	found   [][]hnsw.Result
}

// runExactGroup runs the exact searches of queries [from, to) together.
func (s *Space) runExactGroup(p *plan, from, to int, get func(int, *scratch) ([]float32, ItemID, bool, error), sc *scratch, g *exactGroupScratch, out [][]Result) error {
	n := to - from
	for len(g.buffers) < n {
		g.buffers = append(g.buffers, nil)
		g.heaps = append(g.heaps, topK{})
		g.found = append(g.found, nil)
	}
	g.queries, g.skips = g.queries[:0], g.skips[:0]
	metric := s.rec.metric
	for i := from; i < to; i++ {
		q, self, excludeSelf, err := get(i, sc)
		if err != nil {
			return err
		}
		if metric == Cosine {
			g.buffers[i-from] = s.normalized(q, g.buffers[i-from], metric)
			q = g.buffers[i-from]
		}
		g.queries = append(g.queries, q)
		skip := p.exclude
		if excludeSelf {
			self, inner := uint32(self), p.exclude
			skip = func(node uint32) bool {
				return s.nodeItem[node] == self || (inner != nil && inner(node))
			}
		}
		g.skips = append(g.skips, skip)
		g.found[i-from] = g.found[i-from][:0]
	}
	exactSearchMany(p.full, g.queries, p.k, p.sel, p.nodes, g.skips, g.heaps[:n], g.found[:n])
	for i := range n {
		out[from+i] = s.results(p, g.queries[i], g.found[i], false)
	}
	return nil
}

// results converts graph results for query q into items with Euclidean
// distances. In a Cosine space the distances are computed again as
// ‖q − v‖: sqrt(2(1 − q·v)) loses precision for near neighbours (a vector
// is 6e-4 from itself in float32), and diameters are made of those. So are
// the approximate distances of a quantized graph's search (approximate),
// which finds ef candidates for the k best of them by the full vectors.
// The results are sorted again by the new distances.
func (s *Space) results(p *plan, q []float32, found []hnsw.Result, approximate bool) []Result {
	again := s.rec.metric == Cosine || approximate
	out := make([]Result, len(found))
	for i, r := range found {
		d := r.Distance
		if again {
			d = vek32.Distance(q, p.full.at(r.Node))
		}
		out[i] = Result{ID: ItemID(s.nodeItem[r.Node]), Distance: d}
	}
	if again {
		slices.SortStableFunc(out, func(a, b Result) int { return cmp.Compare(a.Distance, b.Distance) })
	}
	if len(out) > p.k {
		out = out[:p.k]
	}
	return out
}

// run executes a planned search. skip, when not nil, is an item to leave
// out (the query item of SearchItem). The caller holds s.mu for reading
// and has set p.full.
func (s *Space) run(p *plan, query []float32, sc *scratch, skip *ItemID) []Result {
	metric := s.rec.metric
	sc.query = s.normalized(query, sc.query, metric)
	q := query
	if metric == Cosine {
		q = sc.query
	}
	exclude := p.exclude
	if skip != nil {
		self, inner := uint32(*skip), exclude
		exclude = func(node uint32) bool {
			return s.nodeItem[node] == self || (inner != nil && inner(node))
		}
	}
	var found []hnsw.Result
	approximate := false
	switch {
	case p.method == Exact:
		found = exactSearch(p.full, q, p.k, p.sel, p.nodes, exclude, p.workers, &sc.heap, sc.results[:0])
	case s.rec.storage.quantized():
		// Keep all ef candidates of the search on the codes, for the
		// full vectors to choose the k nearest.
		found = s.graph.Search(q, p.ef, p.ef, acceptFunc(p.sel, exclude), sc.results[:0])
		approximate = true
	default:
		found = s.graph.Search(q, p.k, p.ef, acceptFunc(p.sel, exclude), sc.results[:0])
	}
	sc.results = found
	return s.results(p, q, found, approximate)
}

// acceptFunc combines a selection and exclusions into the graph search's
// filter; nil accepts every node.
func acceptFunc(sel *selection, exclude func(uint32) bool) func(uint32) bool {
	switch {
	case sel == nil && exclude == nil:
		return nil
	case sel == nil:
		return func(node uint32) bool { return !exclude(node) }
	case exclude == nil:
		return sel.has
	}
	return func(node uint32) bool { return sel.has(node) && !exclude(node) }
}
