package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"simsearch/index"
)

// The cost model of Auto, index.Space's: an exact scan costs one distance
// per matching vector, a graph search about hnswCost·ef·2M distances
// divided by the share of vectors the filter keeps.
const hnswCost = 2.0 * 0.6

// plan is a search prepared for execution.
type plan struct {
	k, ef    int
	method   index.Method
	filter   index.Filter
	matching int // vectors the static filter keeps
	vectors  int
	indexed  bool
}

// prepare validates opts and plans a search.
func (s *Space) prepare(ctx context.Context, opts index.SearchOptions) (*plan, error) {
	if err := s.st.checkOpen(); err != nil {
		return nil, err
	}
	k := cmp.Or(opts.K, 10)
	switch {
	case k < 0 || k > 100_000:
		return nil, fmt.Errorf("%w: k = %d, want 1 to 100000", index.ErrInvalid, opts.K)
	case opts.Ef < 0:
		return nil, fmt.Errorf("%w: ef = %d, want ≥ 0", index.ErrInvalid, opts.Ef)
	case opts.Method > index.Exact:
		return nil, fmt.Errorf("%w: %v", index.ErrInvalid, opts.Method)
	}
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	vectors, indexed, _, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	p := &plan{k: k, ef: max(cmp.Or(opts.Ef, s.graph.EfSearch), k), filter: opts.Filter, vectors: vectors, indexed: indexed}
	anyProbes := s.st.current().probes > 0
	p.matching = vectors
	if hasStatic(&p.filter, anyProbes) {
		if p.matching, err = s.count(ctx, &p.filter, anyProbes, vectors); err != nil {
			return nil, err
		}
	}
	p.method = opts.Method
	if p.method == index.Auto {
		share := float64(p.matching) / float64(max(vectors, 1))
		p.method = index.HNSW
		if !indexed || float64(p.matching) <= hnswCost*float64(p.ef*2*s.graph.M)/max(share, 1e-9) {
			p.method = index.Exact
		}
	}
	return p, nil
}

// count returns the number of vectors the static part of f keeps, cached
// until the space's number of vectors changes.
func (s *Space) count(ctx context.Context, f *index.Filter, anyProbes bool, vectors int) (int, error) {
	key := staticKey(f, anyProbes)
	s.mu.Lock()
	c, ok := s.counts[key]
	s.mu.Unlock()
	if ok && c.vectors == vectors {
		return c.matching, nil
	}
	var q query
	where := q.filter(f, "item_id", anyProbes, false)
	var n int
	if err := s.st.pool.QueryRow(ctx, "SELECT count(*) FROM "+s.table+" WHERE "+where, q.args...).Scan(&n); err != nil {
		return 0, s.wrapSpace(err)
	}
	s.mu.Lock()
	if s.counts == nil || len(s.counts) >= 64 {
		s.counts = map[string]planCount{}
	}
	s.counts[key] = planCount{matching: n, vectors: vectors}
	s.mu.Unlock()
	return n, nil
}

// Plan returns the method a search with opts would use, with the number
// of the space's vectors its filter keeps.
func (s *Space) Plan(ctx context.Context, opts index.SearchOptions) (method index.Method, matching int, err error) {
	if err := s.Load(ctx); err != nil {
		return 0, 0, err
	}
	p, err := s.prepare(ctx, opts)
	if err != nil {
		return 0, 0, fmt.Errorf("search space %q: %w", s.name, err)
	}
	return p.method, p.matching, nil
}

// Search returns the opts.K items nearest to query, nearest first, with
// Euclidean distances (between unit vectors in a Cosine space).
func (s *Space) Search(query []float32, opts index.SearchOptions) ([]index.Result, error) {
	ctx, cancel := quick()
	defer cancel()
	if err := s.checkVectors(query, 1); err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	out, err := s.search(ctx, [][]float32{query}, nil, opts)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// SearchItem searches with the stored vector of item id, leaving the item
// out of the results; ErrNoItem when it has no vector here.
func (s *Space) SearchItem(id index.ItemID, opts index.SearchOptions) ([]index.Result, error) {
	ctx, cancel := quick()
	defer cancel()
	out, err := s.SearchItems(ctx, []index.ItemID{id}, opts)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// SearchBatch runs one search per query (queries holds them one after
// another) on Options.Workers connections.
func (s *Space) SearchBatch(ctx context.Context, queries []float32, opts index.SearchOptions) ([][]index.Result, error) {
	if len(queries)%s.dim != 0 {
		return nil, fmt.Errorf("search space %q: %w: %d values are not whole %d-d vectors", s.name, index.ErrInvalid, len(queries), s.dim)
	}
	count := len(queries) / s.dim
	if err := s.checkVectors(queries, count); err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	qs := make([][]float32, count)
	for i := range qs {
		qs[i] = queries[i*s.dim : (i+1)*s.dim]
	}
	return s.search(ctx, qs, nil, opts)
}

// SearchItems runs SearchItem for each of ids on Options.Workers
// connections.
func (s *Space) SearchItems(ctx context.Context, ids []index.ItemID, opts index.SearchOptions) ([][]index.Result, error) {
	flat, err := s.Vectors(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	qs := make([][]float32, len(ids))
	for i := range qs {
		qs[i] = flat[i*s.dim : (i+1)*s.dim]
	}
	return s.search(ctx, qs, ids, opts)
}

// group is how many queries share one transaction (and one round trip).
const group = 16

// search runs the queries; selves, when not nil, holds an item to leave
// out of each query's results.
func (s *Space) search(ctx context.Context, queries [][]float32, selves []index.ItemID, opts index.SearchOptions) ([][]index.Result, error) {
	if err := s.Load(ctx); err != nil {
		return nil, err
	}
	p, err := s.prepare(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	out := make([][]index.Result, len(queries))
	if err := s.runAll(ctx, p, p.method, queries, selves, out, nil); err != nil {
		return nil, fmt.Errorf("search space %q: %w", s.name, err)
	}
	if p.method == index.HNSW {
		// An index scan gives up after hnsw.max_scan_tuples: a query
		// that came back short while more items match is answered
		// exactly, so that k results come back when k match.
		var short []int
		for i, r := range out {
			if len(r) < p.k && len(r) < p.matching {
				short = append(short, i)
			}
		}
		if len(short) > 0 {
			if err := s.runAll(ctx, p, index.Exact, queries, selves, out, short); err != nil {
				return nil, fmt.Errorf("search space %q: %w", s.name, err)
			}
		}
	}
	return out, nil
}

// runAll runs the queries numbered which (all when nil) with method, in
// groups on Options.Workers goroutines, writing out.
func (s *Space) runAll(ctx context.Context, p *plan, method index.Method, queries [][]float32, selves []index.ItemID, out [][]index.Result, which []int) error {
	if which == nil {
		which = make([]int, len(queries))
		for i := range which {
			which[i] = i
		}
	}
	workers := min(s.st.opts.Workers, max((len(which)+group-1)/group, 1))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		next     int
		firstErr error
	)
	take := func() []int {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next >= len(which) {
			return nil
		}
		from := next
		next = min(next+group, len(which))
		return which[from:next]
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for part := take(); part != nil; part = take() {
				if err := s.runGroup(ctx, p, method, queries, selves, out, part); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// runGroup runs some queries in one transaction: the search settings,
// then one statement per query, sent together.
func (s *Space) runGroup(ctx context.Context, p *plan, method index.Method, queries [][]float32, selves []index.ItemID, out [][]index.Result, part []int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	anyProbes := s.st.current().probes > 0
	return pgx.BeginFunc(ctx, s.st.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(settings(method, p.ef))
		for _, i := range part {
			var self *index.ItemID
			if selves != nil {
				self = &selves[i]
			}
			sql, args := s.statement(p, queries[i], self, anyProbes)
			b.Queue(sql, args...)
		}
		br := tx.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			br.Close()
			return s.wrapSpace(err)
		}
		for _, i := range part {
			rows, err := br.Query()
			if err != nil {
				br.Close()
				return s.wrapSpace(err)
			}
			res := make([]index.Result, 0, p.k)
			var (
				id int64
				d  float64
			)
			_, err = pgx.ForEachRow(rows, []any{&id, &d}, func() error {
				res = append(res, index.Result{ID: index.ItemID(id), Distance: float32(d)})
				return nil
			})
			if err != nil {
				br.Close()
				return s.wrapSpace(err)
			}
			// Iterative scans return neighbours in relaxed order.
			slices.SortStableFunc(res, func(a, b index.Result) int { return cmp.Compare(a.Distance, b.Distance) })
			out[i] = res
		}
		return br.Close()
	})
}

// settings returns the statement that sets up a transaction's searches
// with method: for HNSW the breadth, pgvector's iterative scans (relaxed
// order: the results are sorted again), and no other plan than the index
// scan; for Exact no index scan, so that the vectors are scanned in
// full.
func settings(method index.Method, ef int) (string, any) {
	if method == index.Exact {
		return "SELECT set_config('enable_indexscan', 'off', true), $1::int", 0
	}
	return `SELECT set_config('hnsw.ef_search', $1::int::text, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
		set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`, min(ef, maxEfSearch)
}

// statement returns the query for the k nearest neighbours of q under
// the plan's filter, leaving self out when not nil.
func (s *Space) statement(p *plan, q []float32, self *index.ItemID, anyProbes bool) (string, []any) {
	var qb query
	vec := qb.arg(pgvector.NewVector(s.prepared(q)))
	f := p.filter
	if self != nil {
		f.ExcludeItems = append(slices.Clip(f.ExcludeItems), *self)
	}
	where := qb.filter(&f, "item_id", anyProbes, true)
	return "SELECT item_id, embedding <-> " + vec + " FROM " + s.table + " WHERE " + where +
		" ORDER BY embedding <-> " + vec + " LIMIT " + strconv.Itoa(p.k), qb.args
}

// Check measures how well the space's HNSW index finds neighbours, as
// index.Space.Check does: sampled (or given) items search with HNSW and
// exactly, and the results are compared.
func (s *Space) Check(ctx context.Context, opts index.CheckOptions) (index.CheckResult, error) {
	if err := s.Load(ctx); err != nil {
		return index.CheckResult{}, err
	}
	k := cmp.Or(opts.K, 10)
	ids := opts.Items
	if len(ids) == 0 {
		want := cmp.Or(opts.Queries, 1000)
		if want < 0 {
			return index.CheckResult{}, fmt.Errorf("check space %q: %w: %d queries", s.name, index.ErrInvalid, want)
		}
		all, err := s.items(ctx)
		if err != nil {
			return index.CheckResult{}, err
		}
		ids = index.SampleItems(all, want, opts.Seed)
	}
	res := index.CheckResult{Space: s.name, Vectors: s.Len(), Queries: len(ids), K: k, Workers: s.st.opts.Workers, Ef: cmp.Or(opts.Ef, s.graph.EfSearch)}
	search := index.SearchOptions{K: k, Ef: opts.Ef, Filter: opts.Filter}
	auto, _, err := s.Plan(ctx, search)
	if err != nil {
		return index.CheckResult{}, err
	}
	res.Auto = auto
	if len(ids) == 0 {
		res.Recall, res.MinRecall = 1, 1
		return res, nil
	}
	search.Method = index.HNSW
	start := time.Now()
	approx, err := s.SearchItems(ctx, ids, search)
	if err != nil {
		return index.CheckResult{}, fmt.Errorf("check: %w", err)
	}
	res.HNSWQueriesPerSecond = float64(len(ids)) / time.Since(start).Seconds()
	search.Method = index.Exact
	start = time.Now()
	exact, err := s.SearchItems(ctx, ids, search)
	if err != nil {
		return index.CheckResult{}, fmt.Errorf("check: %w", err)
	}
	res.ExactQueriesPerSecond = float64(len(ids)) / time.Since(start).Seconds()
	res.Recall, res.MinRecall = index.Recall(approx, exact)
	return res, nil
}
