package index

import (
	"context"
	"errors"
	"math"
	"simsearch/index/vectortest"
	"slices"
	"testing"
)

func TestRoundTripAfterReopen(t *testing.T) {
	const dim, seed = 16, 1
	t.Logf("seed %d", seed)
	db, path := openTest(t, Options{})
	sp, ids, vectors := populate(t, db, testItems("rt", 3000, seed), dim, seed)
	ctx := context.Background()
	if err := sp.SaveGraph(ctx); err != nil {
		t.Fatal(err)
	}
	queries := vectortest.Latent(seed+1, 20, dim, 16, 20, 1.0)
	search := func(sp *Space) [][]Result {
		var out [][]Result
		for _, method := range []Method{HNSW, Exact} {
			res, err := sp.SearchBatch(ctx, queries, SearchOptions{K: 7, Method: method})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res...)
		}
		return out
	}
	before := search(sp)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var stages []string
	db2, err := Open(path, Options{ReadOnly: true, Progress: func(p Progress) {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	sp2, err := db2.Space("s")
	if err != nil {
		t.Fatal(err)
	}
	if sp2.Len() != len(ids) || db2.Len() != 3000 {
		t.Fatalf("after reopening: %d vectors, %d items", sp2.Len(), db2.Len())
	}
	after := search(sp2)
	if !slices.Equal(stages, []string{"load"}) {
		t.Errorf("reopening went through stages %v, want only load (no rebuild)", stages)
	}
	for i := range before {
		if !slices.Equal(before[i], after[i]) {
			t.Fatalf("query %d: %v before, %v after reopening", i, before[i], after[i])
		}
	}
	many, err := sp2.Vectors(ctx, ids[4:6])
	if err != nil || len(many) != 2*dim || math.Abs(float64(many[dim]-vectors[5*dim])) > 1e-6 {
		t.Fatalf("Vectors: %d values, %v", len(many), err)
	}
	v, err := sp2.Vector(ids[5])
	if err != nil {
		t.Fatal(err)
	}
	for j := range dim {
		if math.Abs(float64(v[j]-vectors[5*dim+j])) > 1e-6 {
			t.Fatalf("vector of item %d differs after reopening", ids[5])
		}
	}
}

func TestSearchResultsSortedAtMostK(t *testing.T) {
	const dim, seed = 8, 2
	t.Logf("seed %d", seed)
	db, _ := openTest(t, Options{})
	sp, ids, vectors := populate(t, db, testItems("k", 500, seed), dim, seed)
	q := vectors[:dim]
	for _, method := range []Method{Auto, HNSW, Exact} {
		for _, k := range []int{1, 3, 10, 100, 499, 500, 1000} {
			res, err := sp.Search(q, SearchOptions{K: k, Method: method})
			if err != nil {
				t.Fatal(err)
			}
			want := min(k, len(ids))
			if len(res) != want {
				t.Fatalf("%v k=%d: %d results, want %d", method, k, len(res), want)
			}
			for i := 1; i < len(res); i++ {
				if res[i-1].Distance > res[i].Distance {
					t.Fatalf("%v k=%d: results not sorted", method, k)
				}
			}
			truth := bruteForce(ids, vectors, dim, q, k, nil)
			if method == Exact {
				for i := range res {
					if math.Abs(float64(res[i].Distance-truth[i].Distance)) > 1e-4 {
						t.Fatalf("exact k=%d: result %d at %v, truth %v", k, i, res[i].Distance, truth[i].Distance)
					}
				}
			}
		}
	}
	if _, err := sp.Search(q, SearchOptions{K: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("k = -1: %v, want ErrInvalid", err)
	}
	if _, err := sp.Search(q[:3], SearchOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("short query: %v, want ErrInvalid", err)
	}
}

func TestFilters(t *testing.T) {
	const dim, seed = 16, 3
	t.Logf("seed %d", seed)
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	ordinary := scaled(4000)
	items := append(testItems("f", ordinary, seed), probeItems("shape", 30, 5, 1)...)
	items = append(items, probeItems("colour", 10, 4, 100)...)
	sp, ids, vectors := populate(t, db, items, dim, seed)
	stored, err := db.Items(ids)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[ItemID]Item{}
	for _, it := range stored {
		byID[it.ID] = it
	}
	queries := vectortest.Latent(seed+1, 30, dim, 16, 20, 1.0)

	for _, tc := range []struct {
		name   string
		filter Filter
		keep   func(Item) bool
		want   int // results per query
	}{
		{"none (probes left out)", Filter{}, func(it Item) bool { return it.SetID == 0 }, 10},
		{"include probes", Filter{IncludeProbes: true}, func(Item) bool { return true }, 10},
		{"train only", Filter{Splits: []string{SplitTrain}}, func(it Item) bool { return it.Split == SplitTrain }, 10},
		{"val or train", Filter{Splits: []string{SplitVal, SplitTrain}}, func(it Item) bool { return it.SetID == 0 }, 10},
		{"unknown split", Filter{Splits: []string{"test"}}, func(Item) bool { return false }, 0},
		{"label", Filter{Labels: []LabelIs{{"shape", 2}}}, func(it Item) bool { return it.SetID == 0 && it.Labels["shape"] == 2 }, 10},
		{"two labels", Filter{Splits: []string{SplitTrain}, Labels: []LabelIs{{"shape", 1}, {"colour", 3}}},
			func(it Item) bool {
				return it.Split == SplitTrain && it.Labels["shape"] == 1 && it.Labels["colour"] == 3
			}, 10},
		{"unknown label", Filter{Labels: []LabelIs{{"size", 1}}}, func(Item) bool { return false }, 0},
		{"group", Filter{Group: "shape"}, func(it Item) bool { return it.Group == "shape" }, 10},
		{"group, other sets", Filter{Group: "shape", ExcludeSets: []uint32{1, 2}},
			func(it Item) bool { return it.Group == "shape" && it.SetID != 1 && it.SetID != 2 }, 10},
		{"sets", Filter{Sets: []uint32{100, 101}}, func(it Item) bool { return it.SetID == 100 || it.SetID == 101 }, 8},
		{"exclude items", Filter{Splits: []string{SplitTrain}, ExcludeItems: []ItemID{0, 5, 10}},
			func(it Item) bool { return it.Split == SplitTrain && it.ID != 0 && it.ID != 5 && it.ID != 10 }, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keep := func(id ItemID) bool { return tc.keep(byID[id]) }
			var recallSum float64
			for i := range 30 {
				q := queries[i*dim : (i+1)*dim]
				truth := bruteForce(ids, vectors, dim, q, 10, keep)
				for _, method := range []Method{Auto, HNSW, Exact} {
					res, err := sp.Search(q, SearchOptions{K: 10, Filter: tc.filter, Method: method})
					if err != nil {
						t.Fatal(err)
					}
					if len(res) != tc.want {
						t.Fatalf("%v: %d results, want %d", method, len(res), tc.want)
					}
					for _, r := range res {
						if !keep(r.ID) {
							t.Fatalf("%v: item %+v returned", method, byID[r.ID])
						}
					}
					if method == HNSW {
						a, _ := Recall([][]Result{res}, [][]Result{truth})
						recallSum += a
					}
					if method == Exact {
						for j := range res {
							if math.Abs(float64(res[j].Distance-truth[j].Distance)) > 1e-4 {
								t.Fatalf("exact: result %d at %v, truth %v", j, res[j].Distance, truth[j].Distance)
							}
						}
					}
				}
			}
			if r := recallSum / 30; r < 0.9 {
				t.Errorf("HNSW recall@10 with the filter: %.3f < 0.9", r)
			}
			selected, err := db.Select(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			count := 0
			for _, it := range stored {
				if tc.keep(it) {
					count++
				}
			}
			if len(selected) != count {
				t.Errorf("Select: %d items, want %d", len(selected), count)
			}
		})
	}
	// The report's margins: a probe item's nearest member of another set.
	probe := ids[ordinary]
	res, err := sp.SearchItem(probe, SearchOptions{K: 1, Filter: Filter{Group: "shape", ExcludeSets: []uint32{byID[probe].SetID}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || byID[res[0].ID].SetID == byID[probe].SetID || byID[res[0].ID].Group != "shape" {
		t.Fatalf("margin query: %v", res)
	}
	if m, _, err := sp.Plan(ctx, SearchOptions{Filter: Filter{Group: "shape"}}); err != nil || m != Exact {
		t.Errorf("a selective filter plans %v (%v), want exact", m, err)
	}
}

func TestSearchItemsLeavesQueryOut(t *testing.T) {
	const dim, seed = 16, 4
	db, _ := openTest(t, Options{})
	sp, ids, _ := populate(t, db, testItems("si", 2000, seed), dim, seed)
	val, err := db.Select(Filter{Splits: []string{SplitVal}})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []Method{HNSW, Exact} {
		res, err := sp.SearchItems(context.Background(), val, SearchOptions{Method: method, Filter: Filter{Splits: []string{SplitTrain}}})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if len(r) != 10 {
				t.Fatalf("%v: %d results", method, len(r))
			}
			for _, x := range r {
				if x.ID == val[i] || int(x.ID)%5 >= 3 {
					t.Fatalf("%v: query %d got item %d", method, val[i], x.ID)
				}
			}
		}
	}
	if _, err := sp.SearchItem(ItemID(len(ids)+5), SearchOptions{}); !errors.Is(err, ErrNoItem) {
		t.Errorf("unknown item: %v, want ErrNoItem", err)
	}
}

func TestRecallOf20000ClusteredVectors(t *testing.T) {
	// The acceptance test: default parameters, seeded clustered
	// unit vectors, recall@10 ≥ 0.95 against exact search. The clusters
	// span 32 latent dimensions, which makes the neighbours harder to find
	// than populate's.
	t.Parallel()
	const dim, seed = 64, 5
	n := scaled(20000)
	t.Logf("seed %d, %d vectors", seed, n)
	db, _ := openTest(t, Options{Workers: 2})
	ctx := context.Background()
	ids, _, err := db.AddItems(ctx, testItems("r", n, seed))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := db.CreateSpace(ctx, SpaceConfig{Name: "s", Dim: dim, Encoder: Encoder{ID: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.AddVectors(ctx, ids, vectortest.Latent(seed, n, dim, 32, 200, 1.0)); err != nil {
		t.Fatal(err)
	}
	res, err := sp.Check(ctx, CheckOptions{Queries: 300, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recall@10 %.4f (worst %.2f), %.0f HNSW and %.0f exact queries/s", res.Recall, res.MinRecall, res.HNSWQueriesPerSecond, res.ExactQueriesPerSecond)
	if res.Recall < 0.95 {
		t.Errorf("recall@10 %.4f < 0.95", res.Recall)
	}
}

func TestConcurrentSearchesAndWrites(t *testing.T) {
	// Run with -race.
	const dim, seed = 8, 6
	db, _ := openTest(t, Options{Workers: 2})
	ctx := context.Background()
	sp, _, _ := populate(t, db, testItems("c", 500, seed), dim, seed)
	if err := sp.Load(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := range 3 {
		go func() {
			q := vectortest.Latent(uint64(w), 1, dim, 16, 20, 1.0)
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				if _, err := sp.Search(q, SearchOptions{K: 5, Filter: Filter{Splits: []string{SplitTrain}}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for b := range 5 {
		items := testItems("c-more", 600, uint64(b))[b*100 : (b+1)*100]
		ids, _, err := db.AddItems(ctx, items)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sp.AddVectors(ctx, ids, vectortest.Latent(uint64(b), len(ids), dim, 16, 20, 1.0)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if sp.Len() != 1000 {
		t.Fatalf("%d vectors, want 1000", sp.Len())
	}
}

func TestCheckReportsRecallAndSpeed(t *testing.T) {
	const dim, seed = 16, 7
	db, _ := openTest(t, Options{})
	sp, _, _ := populate(t, db, testItems("chk", 1500, seed), dim, seed)
	res, err := sp.Check(context.Background(), CheckOptions{Queries: 50, K: 5, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if res.Queries != 50 || res.K != 5 || res.Ef != 96 || res.Vectors != 1500 {
		t.Errorf("check result %+v", res)
	}
	if res.Recall < 0.9 || res.Recall > 1 || res.MinRecall > res.Recall || res.HNSWQueriesPerSecond <= 0 || res.ExactQueriesPerSecond <= 0 {
		t.Errorf("check result %+v", res)
	}
}
