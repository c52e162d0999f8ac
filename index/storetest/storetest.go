// Package storetest is the contract test suite of index.Store: the same
// tests run against every kind of store (the bbolt file, PostgreSQL) and
// check the behaviour the rest of simsearch relies on. Exact searches are
// compared with a brute-force reference computed here, so two stores that
// pass agree with each other on ids and (within 1e-5) distances.
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) index.Store { … a new, empty store … })
//	}
package storetest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"simsearch/index"
	"simsearch/index/vectortest"
)

// Tolerance is how far a store's distance may be from the reference.
const Tolerance = 1e-5

// Run runs the contract tests; open returns a new, empty, writable store
// for each test, closed by the caller's cleanup or by Run.
func Run(t *testing.T, open func(t *testing.T) index.Store) {
	t.Run("items", func(t *testing.T) { testItems(t, open(t)) })
	t.Run("select", func(t *testing.T) { testSelect(t, open(t)) })
	t.Run("spaces", func(t *testing.T) { testSpaces(t, open(t)) })
	t.Run("vectors", func(t *testing.T) { testVectors(t, open(t)) })
	t.Run("exact", func(t *testing.T) { testExact(t, open(t)) })
	t.Run("hnsw", func(t *testing.T) { testHNSW(t, open(t)) })
	t.Run("concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("labels", func(t *testing.T) { testLabels(t, open(t)) })
}

// Items returns n items: 60 % train, 40 % val, labels shape (0–2) and
// colour (0–7), a factor hue; the last probes of them in probe sets of 5
// (group "g"). Hashes come from prefix and the index.
func Items(prefix string, n, probes int, seed uint64) []index.Item {
	rng := rand.New(rand.NewPCG(seed, 7))
	items := make([]index.Item, n)
	for i := range items {
		it := index.Item{
			Source:  fmt.Sprintf("%s/%d.png", prefix, i),
			Hash:    sha256.Sum256(fmt.Appendf(nil, "%s-%d", prefix, i)),
			Split:   index.SplitTrain,
			Factors: map[string]float64{"hue": rng.Float64()},
			Labels:  map[string]int{"shape": rng.IntN(3), "colour": rng.IntN(8)},
		}
		if i%5 >= 3 {
			it.Split = index.SplitVal
		}
		if i >= n-probes {
			it.Split, it.SetID, it.Group = index.SplitProbe, uint32(1+(i-(n-probes))/5), "g"
			it.Labels = nil
		}
		if i%4 == 0 {
			it.Thumbnail = []byte(fmt.Sprintf("png of %d", i))
		}
		items[i] = it
	}
	return items
}

func space(t *testing.T, st index.Store, name string, dim int, metric index.Metric) index.SpaceStore {
	t.Helper()
	sp, err := st.CreateSpace(context.Background(), index.SpaceConfig{Name: name, Dim: dim, Metric: metric,
		Encoder: index.Encoder{ID: "enc-" + name, Description: "test", Resolution: 32, Checkpoint: []byte("weights of " + name)}})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func testItems(t *testing.T, st index.Store) {
	ctx := context.Background()
	items := Items("a", 50, 10, 1)
	ids, added, err := st.AddItems(ctx, items[:30])
	if err != nil {
		t.Fatal(err)
	}
	if added != 30 || ids[0] != 0 || ids[29] != 29 {
		t.Fatalf("first batch: added %d, ids %v", added, ids)
	}
	// A batch that repeats stored items and one item twice.
	batch := append(slices.Clone(items[20:]), items[45])
	ids, added, err = st.AddItems(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if added != 20 {
		t.Fatalf("second batch added %d, want 20", added)
	}
	for i, id := range ids[:30] {
		if id != index.ItemID(20+i) {
			t.Fatalf("item %d got id %d, want %d (ids are dense, in order)", 20+i, id, 20+i)
		}
	}
	if ids[30] != 45 {
		t.Fatalf("repeated item got id %d, want 45", ids[30])
	}
	if _, added, err = st.AddItems(ctx, items); err != nil || added != 0 {
		t.Fatalf("adding everything again: added %d, %v", added, err)
	}
	if st.Len() != 50 || st.ProbeCount() != 10 {
		t.Fatalf("Len %d, ProbeCount %d; want 50, 10", st.Len(), st.ProbeCount())
	}
	if got, want := st.SplitCounts(), map[string]int{"train": 24, "val": 16, "probe": 10}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("SplitCounts %v, want %v", got, want)
	}
	got, err := st.Items([]index.ItemID{3, 0, 49})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []int{3, 0, 49} {
		want := items[id]
		want.ID, want.Thumbnail = index.ItemID(id), nil
		if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want) {
			t.Errorf("item %d:\n got %+v\nwant %+v", id, got[i], want)
		}
	}
	if _, err := st.Item(50); !errors.Is(err, index.ErrNoItem) {
		t.Errorf("Item(50) error %v, want ErrNoItem", err)
	}
	for _, id := range []index.ItemID{0, 1} {
		th, err := st.Thumbnail(id)
		if err != nil || string(th) != string(items[id].Thumbnail) {
			t.Errorf("Thumbnail(%d) = %q, %v; want %q", id, th, err, items[id].Thumbnail)
		}
	}
	if _, err := st.Thumbnail(77); !errors.Is(err, index.ErrNoItem) {
		t.Errorf("Thumbnail(77) error %v, want ErrNoItem", err)
	}
	lids, found, err := st.LookupHashes([]index.Hash{items[7].Hash, sha256.Sum256([]byte("nothing")), items[40].Hash})
	if err != nil || !found[0] || found[1] || !found[2] || lids[0] != 7 || lids[2] != 40 {
		t.Errorf("LookupHashes = %v %v %v", lids, found, err)
	}
	var seen []index.ItemID
	if err := st.ForEachItem(ctx, func(it index.Item) error { seen = append(seen, it.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 50 || !slices.IsSorted(seen) {
		t.Errorf("ForEachItem saw %d items, sorted %v", len(seen), slices.IsSorted(seen))
	}
	bad := Items("bad", 1, 0, 1)
	bad[0].Split = ""
	if _, _, err := st.AddItems(ctx, bad); !errors.Is(err, index.ErrInvalid) {
		t.Errorf("item without split: error %v, want ErrInvalid", err)
	}
}

// matches is the reference for index.Filter.
func matches(it index.Item, f index.Filter, anyProbes bool) bool {
	if len(f.Splits) > 0 && !slices.Contains(f.Splits, it.Split) {
		return false
	}
	if f.Group != "" && it.Group != f.Group {
		return false
	}
	if len(f.Sets) > 0 && !slices.Contains(f.Sets, it.SetID) {
		return false
	}
	if slices.Contains(f.ExcludeSets, it.SetID) || slices.Contains(f.ExcludeItems, it.ID) {
		return false
	}
	for _, l := range f.Labels {
		if v, ok := it.Labels[l.Name]; !ok || v != l.Value {
			return false
		}
	}
	if anyProbes && it.SetID != 0 && !f.ProbesAllowed() {
		return false
	}
	return true
}

// filters are the filters the tests try.
var filters = []struct {
	name string
	f    index.Filter
}{
	{"none", index.Filter{}},
	{"train", index.Filter{Splits: []string{index.SplitTrain}}},
	{"train+val", index.Filter{Splits: []string{index.SplitTrain, index.SplitVal}}},
	{"unknown split", index.Filter{Splits: []string{"test"}}},
	{"label", index.Filter{Labels: []index.LabelIs{{Name: "shape", Value: 1}}}},
	{"two labels", index.Filter{Splits: []string{index.SplitVal}, Labels: []index.LabelIs{{Name: "shape", Value: 2}, {Name: "colour", Value: 3}}}},
	{"unknown label", index.Filter{Labels: []index.LabelIs{{Name: "size", Value: 1}}}},
	{"group", index.Filter{Group: "g"}},
	{"group less a set", index.Filter{Group: "g", ExcludeSets: []uint32{2}}},
	{"sets", index.Filter{Sets: []uint32{1, 3}}},
	{"probes too", index.Filter{IncludeProbes: true, ExcludeItems: []index.ItemID{0, 5, 9}}},
	{"exclusions", index.Filter{Splits: []string{index.SplitTrain}, ExcludeItems: []index.ItemID{0, 1, 2, 3}}},
}

func testSelect(t *testing.T, st index.Store) {
	items := Items("s", 200, 20, 2)
	if _, _, err := st.AddItems(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	for _, c := range filters {
		t.Run(c.name, func(t *testing.T) {
			got, err := st.Select(c.f)
			if err != nil {
				t.Fatal(err)
			}
			var want []index.ItemID
			for i, it := range items {
				it.ID = index.ItemID(i)
				if matches(it, c.f, true) {
					want = append(want, it.ID)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("Select = %v\nwant %v", got, want)
			}
		})
	}
	if _, err := st.Select(index.Filter{Splits: []string{""}}); !errors.Is(err, index.ErrInvalid) {
		t.Errorf("empty split name: error %v, want ErrInvalid", err)
	}
}

func testSpaces(t *testing.T, st index.Store) {
	ctx := context.Background()
	if _, err := st.Space("s"); !errors.Is(err, index.ErrNoSpace) {
		t.Fatalf("Space(s) before creation: %v, want ErrNoSpace", err)
	}
	sp := space(t, st, "s", 4, index.Cosine)
	if sp.Name() != "s" || sp.Dim() != 4 || sp.Metric() != index.Cosine || sp.Graph() != index.DefaultGraphConfig() {
		t.Fatalf("space %s: dim %d, metric %v, graph %+v", sp.Name(), sp.Dim(), sp.Metric(), sp.Graph())
	}
	space(t, st, "b", 2, index.Euclidean)
	again := space(t, st, "s", 4, index.Cosine) // same encoder: opened
	if again.Name() != "s" {
		t.Fatal("reopened space has another name")
	}
	_, err := st.CreateSpace(ctx, index.SpaceConfig{Name: "s", Dim: 4, Encoder: index.Encoder{ID: "other"}})
	if !errors.Is(err, index.ErrEncoderMismatch) {
		t.Fatalf("CreateSpace with another encoder: %v, want ErrEncoderMismatch", err)
	}
	if _, err := st.CreateSpace(ctx, index.SpaceConfig{Name: "", Dim: 4, Encoder: index.Encoder{ID: "e"}}); !errors.Is(err, index.ErrInvalid) {
		t.Fatalf("empty name: %v, want ErrInvalid", err)
	}
	if err := sp.CheckEncoder("enc-s"); err != nil {
		t.Fatal(err)
	}
	if err := sp.CheckEncoder("enc-x"); !errors.Is(err, index.ErrEncoderMismatch) {
		t.Fatalf("CheckEncoder(enc-x): %v, want ErrEncoderMismatch", err)
	}
	enc, err := sp.Encoder()
	if err != nil || enc.ID != "enc-s" || string(enc.Checkpoint) != "weights of s" || enc.Resolution != 32 || enc.Description != "test" {
		t.Fatalf("Encoder() = %+v, %v", enc, err)
	}
	names, err := st.SpaceNames()
	if err != nil || !slices.Equal(names, []string{"b", "s"}) {
		t.Fatalf("SpaceNames = %v, %v", names, err)
	}
	info, err := st.Info()
	if err != nil || len(info.Spaces) != 2 || info.Spaces[1].Encoder.Bytes != int64(len("weights of s")) || !info.Spaces[1].Stored.UpToDate {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	if err := st.DeleteSpace(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSpace(ctx, "b"); !errors.Is(err, index.ErrNoSpace) {
		t.Fatalf("deleting twice: %v, want ErrNoSpace", err)
	}
	if names, _ := st.SpaceNames(); !slices.Equal(names, []string{"s"}) {
		t.Fatalf("SpaceNames after delete = %v", names)
	}
}

func testVectors(t *testing.T, st index.Store) {
	ctx := context.Background()
	if _, _, err := st.AddItems(ctx, Items("v", 10, 0, 3)); err != nil {
		t.Fatal(err)
	}
	sp := space(t, st, "v", 2, index.Cosine)
	added, err := sp.AddVectors(ctx, []index.ItemID{0, 1, 2}, []float32{3, 4, 1, 0, 0, 2})
	if err != nil || added != 3 {
		t.Fatalf("AddVectors: %d, %v", added, err)
	}
	// Resuming: a batch that overlaps stores only the new vectors.
	added, err = sp.AddVectors(ctx, []index.ItemID{2, 3, 4, 3}, []float32{0, 2, 1, 1, -1, 0, 5, 5})
	if err != nil || added != 2 {
		t.Fatalf("AddVectors again: %d, %v; want 2 added", added, err)
	}
	if sp.Len() != 5 || !sp.Has(4) || sp.Has(5) {
		t.Fatalf("Len %d, Has(4) %v, Has(5) %v", sp.Len(), sp.Has(4), sp.Has(5))
	}
	if got := sp.Missing([]index.ItemID{9, 0, 5, 3, 7}); !slices.Equal(got, []index.ItemID{9, 5, 7}) {
		t.Fatalf("Missing = %v", got)
	}
	if got := sp.Items(); !slices.Equal(got, []index.ItemID{0, 1, 2, 3, 4}) {
		t.Fatalf("Items = %v", got)
	}
	v, err := sp.Vector(0)
	if err != nil || math.Abs(float64(v[0])-0.6) > 1e-6 || math.Abs(float64(v[1])-0.8) > 1e-6 {
		t.Fatalf("Vector(0) = %v, %v; want the unit vector (0.6, 0.8)", v, err)
	}
	vs, err := sp.Vectors(ctx, []index.ItemID{3, 1})
	if err != nil || len(vs) != 4 || math.Abs(float64(vs[0])-math.Sqrt(0.5)) > 1e-6 || vs[2] != 1 {
		t.Fatalf("Vectors(3, 1) = %v, %v", vs, err)
	}
	if _, err := sp.Vector(8); !errors.Is(err, index.ErrNoItem) {
		t.Fatalf("Vector(8): %v, want ErrNoItem", err)
	}
	if _, err := sp.AddVectors(ctx, []index.ItemID{10}, []float32{1, 1}); !errors.Is(err, index.ErrNoItem) {
		t.Fatalf("vector of an unknown item: %v, want ErrNoItem", err)
	}
	for _, bad := range [][]float32{{1}, {float32(math.NaN()), 1}, {0, 0}} {
		if _, err := sp.AddVectors(ctx, []index.ItemID{6}, bad); !errors.Is(err, index.ErrInvalid) {
			t.Fatalf("AddVectors(%v): %v, want ErrInvalid", bad, err)
		}
	}
	if sp.Len() != 5 {
		t.Fatalf("failed writes changed Len to %d", sp.Len())
	}
	if _, err := sp.SearchItem(8, index.SearchOptions{}); !errors.Is(err, index.ErrNoItem) {
		t.Fatalf("SearchItem of an item without vector: %v, want ErrNoItem", err)
	}
	if _, err := sp.Search([]float32{1, 0}, index.SearchOptions{K: -1}); !errors.Is(err, index.ErrInvalid) {
		t.Fatalf("k = -1: %v, want ErrInvalid", err)
	}
}

// fill adds items and vectors for the search tests: n items (probes of
// them in sets) with clustered vectors of dimension dim.
func fill(t *testing.T, st index.Store, sp index.SpaceStore, items []index.Item, dim int, seed uint64) []float32 {
	t.Helper()
	ctx := context.Background()
	ids, _, err := st.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	vecs := vectortest.Latent(seed, len(items), dim, 8, max(len(items)/100, 4), 0.3)
	for start := 0; start < len(ids); start += 1000 {
		end := min(start+1000, len(ids))
		if _, err := sp.AddVectors(ctx, ids[start:end], vecs[start*dim:end*dim]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.SaveGraph(ctx); err != nil {
		t.Fatal(err)
	}
	return vecs
}

// reference returns the k nearest items of q among those f keeps, with
// Euclidean distances computed in float64.
func reference(items []index.Item, vecs []float32, dim int, q []float32, k int, f index.Filter) []index.Result {
	var out []index.Result
	for i := range items {
		it := items[i]
		it.ID = index.ItemID(i)
		if !matches(it, f, true) {
			continue
		}
		var d float64
		for j := range dim {
			x := float64(q[j]) - float64(vecs[i*dim+j])
			d += x * x
		}
		out = append(out, index.Result{ID: it.ID, Distance: float32(math.Sqrt(d))})
	}
	slices.SortStableFunc(out, func(a, b index.Result) int { return cmp.Compare(a.Distance, b.Distance) })
	return out[:min(k, len(out))]
}

// sameResults compares results with the reference: the same ids in the
// same order, except that neighbours whose distances tie within the
// tolerance may come in either order.
func sameResults(got, want []index.Result) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d results, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i].Distance-want[i].Distance)) > Tolerance {
			return fmt.Errorf("result %d: distance %v, want %v", i, got[i].Distance, want[i].Distance)
		}
		if got[i].ID != want[i].ID {
			tied := false
			for j := range want {
				if want[j].ID == got[i].ID && math.Abs(float64(want[j].Distance-want[i].Distance)) <= Tolerance {
					tied = true
				}
			}
			if !tied {
				return fmt.Errorf("result %d: item %d, want %d", i, got[i].ID, want[i].ID)
			}
		}
	}
	return nil
}

func testExact(t *testing.T, st index.Store) {
	const dim = 16
	items := Items("e", 600, 40, 4)
	for _, metric := range []index.Metric{index.Cosine, index.Euclidean} {
		t.Run(metric.String(), func(t *testing.T) {
			sp := space(t, st, "exact-"+metric.String(), dim, metric)
			vecs := fill(t, st, sp, items, dim, 5)
			if metric == index.Euclidean {
				for i := range vecs { // not unit vectors: scale them
					vecs[i] *= float32(1 + i%7)
				}
				// Replace the stored vectors: a fresh space.
				if err := st.DeleteSpace(context.Background(), sp.Name()); err != nil {
					t.Fatal(err)
				}
				sp = space(t, st, "exact-"+metric.String(), dim, metric)
				if _, err := sp.AddVectors(context.Background(), ids(len(items)), vecs); err != nil {
					t.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(6, 0))
			queries := make([]float32, 8*dim)
			for i := range queries {
				queries[i] = float32(rng.NormFloat64())
			}
			for _, c := range filters {
				t.Run(c.name, func(t *testing.T) {
					opts := index.SearchOptions{K: 7, Method: index.Exact, Filter: c.f}
					got, err := sp.SearchBatch(context.Background(), queries, opts)
					if err != nil {
						t.Fatal(err)
					}
					for i := range got {
						q := queries[i*dim : (i+1)*dim]
						if metric == index.Cosine {
							q = unit(q)
						}
						if err := sameResults(got[i], reference(items, vecs, dim, q, 7, c.f)); err != nil {
							t.Fatalf("query %d: %v", i, err)
						}
					}
					// An item query leaves the item out.
					self := index.ItemID(10)
					res, err := sp.SearchItem(self, opts)
					if err != nil {
						t.Fatal(err)
					}
					f := c.f
					f.ExcludeItems = append(slices.Clone(f.ExcludeItems), self)
					if err := sameResults(res, reference(items, vecs, dim, vecs[10*dim:11*dim], 7, f)); err != nil {
						t.Fatalf("item query: %v", err)
					}
				})
			}
		})
	}
}

func ids(n int) []index.ItemID {
	out := make([]index.ItemID, n)
	for i := range out {
		out[i] = index.ItemID(i)
	}
	return out
}

func unit(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / math.Sqrt(n))
	}
	return out
}

func testHNSW(t *testing.T, st index.Store) {
	const dim, n = 32, 3000
	ctx := context.Background()
	items := Items("h", n, 100, 7)
	sp := space(t, st, "hnsw", dim, index.Cosine)
	fill(t, st, sp, items, dim, 8)
	if !sp.Info().Stored.UpToDate {
		t.Fatal("index not up to date after SaveGraph")
	}
	if m, _, err := sp.Plan(ctx, index.SearchOptions{Ef: 16}); err != nil || m != index.HNSW {
		t.Fatalf("Plan on %d vectors at ef 16: %v, %v; want hnsw", n, m, err)
	}
	if m, matching, err := sp.Plan(ctx, index.SearchOptions{Filter: index.Filter{Sets: []uint32{2}}}); err != nil || m != index.Exact || matching != 5 {
		t.Fatalf("Plan for one probe set: %v, %d, %v; want exact, 5", m, matching, err)
	}
	queries := rand.New(rand.NewPCG(9, 0)).Perm(n - 100)[:200]
	qids := make([]index.ItemID, len(queries))
	for i, q := range queries {
		qids[i] = index.ItemID(q)
	}
	for _, c := range []struct {
		name string
		f    index.Filter
	}{
		{"none", index.Filter{}},
		{"train", index.Filter{Splits: []string{index.SplitTrain}}},
		{"label", index.Filter{Labels: []index.LabelIs{{Name: "colour", Value: 5}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := index.SearchOptions{K: 10, Ef: 64, Filter: c.f, Method: index.HNSW}
			approx, err := sp.SearchItems(ctx, qids, opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.Method = index.Exact
			exact, err := sp.SearchItems(ctx, qids, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range approx {
				if len(r) != 10 {
					t.Fatalf("query %d: %d results, want 10", i, len(r))
				}
				for _, x := range r {
					it := items[x.ID]
					it.ID = x.ID
					if !matches(it, c.f, true) || x.ID == qids[i] {
						t.Fatalf("query %d returned item %d, which the filter drops", i, x.ID)
					}
				}
			}
			recall, _ := index.Recall(approx, exact)
			t.Logf("recall@10 %.3f over %d queries", recall, len(qids))
			if recall < 0.95 {
				t.Fatalf("recall@10 = %.3f, want ≥ 0.95", recall)
			}
		})
	}
	res, err := sp.Check(ctx, index.CheckOptions{Queries: 100, Seed: 1})
	if err != nil || res.Queries != 100 || res.Recall < 0.95 || res.Vectors != n {
		t.Fatalf("Check = %+v, %v", res, err)
	}
	// A filter that keeps a few items still returns k of them with HNSW.
	few := index.Filter{Group: "g", ExcludeSets: []uint32{1}}
	r, err := sp.SearchItem(index.ItemID(n-1), index.SearchOptions{K: 10, Filter: few, Method: index.HNSW})
	if err != nil || len(r) != 10 {
		t.Fatalf("HNSW search among 95 probes: %d results, %v", len(r), err)
	}
}

func testConcurrent(t *testing.T, st index.Store) {
	ctx := context.Background()
	const dim, n = 8, 600
	items := Items("c", n, 0, 10)
	vecs := vectortest.Latent(11, n, dim, 4, 10, 0.3)
	sp := space(t, st, "c", dim, index.Cosine)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Both writers send every item, in batches of different
			// sizes and orders, and then their vectors.
			rng := rand.New(rand.NewPCG(uint64(w), 12))
			order := rng.Perm(n)
			step := 37 + 50*w
			for start := 0; start < n; start += step {
				part := order[start:min(start+step, n)]
				batch := make([]index.Item, len(part))
				for i, p := range part {
					batch[i] = items[p]
				}
				bids, _, err := st.AddItems(ctx, batch)
				if err != nil {
					errs[w] = err
					return
				}
				vs := make([]float32, 0, len(part)*dim)
				for _, p := range part {
					vs = append(vs, vecs[p*dim:(p+1)*dim]...)
				}
				if _, err := sp.AddVectors(ctx, bids, vs); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if st.Len() != n || sp.Len() != n {
		t.Fatalf("%d items and %d vectors, want %d of each", st.Len(), sp.Len(), n)
	}
	got := sp.Items()
	slices.Sort(got)
	if !slices.Equal(got, ids(n)) {
		t.Fatalf("the space's items are not 0…%d once each", n-1)
	}
	// Each item's vector is its own.
	lids, _, err := st.LookupHashes([]index.Hash{items[5].Hash, items[n-1].Hash})
	if err != nil {
		t.Fatal(err)
	}
	for j, p := range []int{5, n - 1} {
		v, err := sp.Vector(lids[j])
		if err != nil {
			t.Fatal(err)
		}
		for d := range dim {
			if math.Abs(float64(v[d]-vecs[p*dim+d])) > 1e-6 {
				t.Fatalf("item %d has another item's vector", p)
			}
		}
	}
}
