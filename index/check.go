package index

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// CheckOptions configure Space.Check. Zero fields take defaults. It is a
// plain value, read once by Check.
type CheckOptions struct {
	// Queries is the number of stored vectors sampled as queries; 0 means
	// 1000. Ignored when Items is given.
	Queries int
	// Items are the query items; when empty, Queries items are sampled.
	Items []ItemID
	// K is the number of neighbours compared; 0 means 10.
	K int
	// Ef is the HNSW breadth; 0 means the space's EfSearch.
	Ef int
	// Filter restricts the neighbours, as in a search.
	Filter Filter
	// Seed chooses the sampled queries.
	Seed uint64
}

// CheckResult is the outcome of a recall self-check: a plain value owned by
// the caller.
type CheckResult struct {
	Space   string `json:"space"`
	Vectors int    `json:"vectors"`
	// Storage is how the graph keeps the vectors (empty from stores that
	// have one way only).
	Storage Storage `json:"storage,omitzero"`
	Queries int     `json:"queries"`
	K       int     `json:"k"`
	Ef      int     `json:"ef"`
	Workers int     `json:"workers"`
	// Recall is the mean share of the exact k nearest neighbours that the
	// HNSW search found (recall@k); MinRecall the worst query's.
	Recall    float64 `json:"recall"`
	MinRecall float64 `json:"min_recall"`
	// HNSWQueriesPerSecond and ExactQueriesPerSecond are the throughputs
	// of the two methods on these queries with Workers goroutines.
	HNSWQueriesPerSecond  float64 `json:"hnsw_queries_per_second"`
	ExactQueriesPerSecond float64 `json:"exact_queries_per_second"`
	// Auto is the method a search with these options picks by default.
	Auto Method `json:"auto"`
}

// Check measures how well the space's HNSW graph finds neighbours: each
// query item (the item itself left out of its results) is searched with
// HNSW and exactly, and the results compared. Queries are stored vectors,
// so the check needs nothing but the file.
func (s *Space) Check(ctx context.Context, opts CheckOptions) (CheckResult, error) {
	if err := s.Load(ctx); err != nil {
		return CheckResult{}, err
	}
	if opts.K < 0 || opts.Queries < 0 || opts.Ef < 0 {
		return CheckResult{}, fmt.Errorf("check space %q: %w: k %d, %d queries, ef %d", s.name, ErrInvalid, opts.K, opts.Queries, opts.Ef)
	}
	k := cmp.Or(opts.K, 10)
	ids := opts.Items
	if len(ids) == 0 {
		ids = SampleItems(s.Items(), cmp.Or(opts.Queries, 1000), opts.Seed)
	}
	res := CheckResult{Space: s.name, Vectors: s.Len(), Storage: s.record().storage, Queries: len(ids), K: k, Workers: s.db.opts.Workers}
	search := SearchOptions{K: k, Ef: opts.Ef, Filter: opts.Filter}
	auto, _, err := s.Plan(ctx, search)
	if err != nil {
		return CheckResult{}, err
	}
	res.Auto = auto
	res.Ef = opts.Ef
	if res.Ef == 0 {
		res.Ef = s.Graph().EfSearch
	}
	if len(ids) == 0 {
		res.Recall, res.MinRecall = 1, 1
		return res, nil
	}

	search.Method = HNSW
	start := time.Now()
	approx, err := s.SearchItems(ctx, ids, search)
	if err != nil {
		return CheckResult{}, fmt.Errorf("check: %w", err)
	}
	res.HNSWQueriesPerSecond = float64(len(ids)) / time.Since(start).Seconds()

	search.Method = Exact
	start = time.Now()
	exact, err := s.SearchItems(ctx, ids, search)
	if err != nil {
		return CheckResult{}, fmt.Errorf("check: %w", err)
	}
	res.ExactQueriesPerSecond = float64(len(ids)) / time.Since(start).Seconds()

	res.Recall, res.MinRecall = Recall(approx, exact)
	return res, nil
}

// Recall compares approximate results with exact ones, query by query,
// and returns the mean and the smallest share of each query's exact
// neighbours found. A query with no exact neighbour counts as 1.
func Recall(approx, exact [][]Result) (mean, worst float64) {
	worst = 1
	if len(exact) == 0 {
		return 1, 1
	}
	var total float64
	for i := range exact {
		r := 1.0
		if len(exact[i]) > 0 {
			found := 0
			for _, e := range exact[i] {
				for _, a := range approx[i] {
					if a.ID == e.ID {
						found++
						break
					}
				}
			}
			r = float64(found) / float64(len(exact[i]))
		}
		total += r
		worst = min(worst, r)
	}
	return total / float64(len(exact)), worst
}

// SampleItems returns up to n distinct items of items chosen with seed,
// reordering items in place: the same seed picks the same items from the
// same list, whichever store the list came from.
func SampleItems(items []ItemID, n int, seed uint64) []ItemID {
	rng := rand.New(rand.NewPCG(seed, 0xc4ec))
	if n >= len(items) {
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		return items
	}
	// Partial Fisher–Yates: the first n positions end up a uniform sample.
	for i := range n {
		j := i + rng.IntN(len(items)-i)
		items[i], items[j] = items[j], items[i]
	}
	return items[:n]
}
