package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"simsearch/index"
)

// testLabels checks the label schema and SetLabels: the schema merges
// (class numbers kept, new classes appended), updates set labels of stored
// items in one transaction, and filters (Select, searches) see them.
func testLabels(t *testing.T, st index.Store) {
	ctx := context.Background()
	if s, err := st.LabelSchema(); err != nil || len(s.Labels) != 0 {
		t.Fatalf("schema of a new store: %+v, %v; want an empty one", s, err)
	}
	schema := index.LabelSchema{Labels: []index.LabelInfo{
		{Name: "species", Kind: index.Categorical, Classes: []string{"cat", "dog"}},
		{Name: "weight", Kind: index.Continuous, Classes: []string{"< 2", "≥ 2"}, Edges: []float64{2}},
	}}
	if _, err := st.SetLabels(ctx, schema, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetLabels(ctx, index.LabelSchema{Labels: []index.LabelInfo{{Name: "species", Kind: index.Categorical, Classes: []string{"dog", "bird"}}}}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.LabelSchema()
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := got.Label("species"); !slices.Equal(l.Classes, []string{"cat", "dog", "bird"}) {
		t.Errorf("merged species classes %v, want cat dog bird", l.Classes)
	}
	if l, _ := got.Label("weight"); l.Kind != index.Continuous || !slices.Equal(l.Edges, []float64{2}) {
		t.Errorf("weight %+v", l)
	}
	if _, err := st.SetLabels(ctx, index.LabelSchema{Labels: []index.LabelInfo{{Name: "weight", Kind: index.Categorical}}}, nil); !errors.Is(err, index.ErrInvalid) {
		t.Errorf("a label of another kind: error %v, want ErrInvalid", err)
	}

	items := Items("labels", 40, 0, 3)
	sp := space(t, st, "l", 8, index.Cosine)
	fill(t, st, sp, items, 8, 4)
	ids, err := st.Select(index.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	updates := []index.LabelUpdate{
		{ID: ids[2], Labels: map[string]int{"species": 2, "weight": 1}, Factors: map[string]float64{"weight": 2.5}},
		{ID: ids[5], Labels: map[string]int{"species": 2}},
	}
	if n, err := st.SetLabels(ctx, index.LabelSchema{}, updates); err != nil || n != 2 {
		t.Fatalf("SetLabels: %d changed, %v; want 2", n, err)
	}
	if n, err := st.SetLabels(ctx, index.LabelSchema{}, updates); err != nil || n != 0 {
		t.Fatalf("SetLabels again: %d changed, %v; want 0", n, err)
	}
	it, err := st.Item(ids[2])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"species": 2, "weight": 1, "shape": items[2].Labels["shape"], "colour": items[2].Labels["colour"]}
	if !reflect.DeepEqual(it.Labels, want) || it.Factors["weight"] != 2.5 || it.Factors["hue"] != items[2].Factors["hue"] {
		t.Fatalf("updated item: labels %v factors %v; want labels %v, old factors kept", it.Labels, it.Factors, want)
	}
	birds := index.Filter{Labels: []index.LabelIs{{Name: "species", Value: 2}}}
	if sel, err := st.Select(birds); err != nil || !slices.Equal(sel, []index.ItemID{ids[2], ids[5]}) {
		t.Fatalf("Select species=2: %v, %v; want %v", sel, err, []index.ItemID{ids[2], ids[5]})
	}
	if err := sp.Load(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := sp.Vector(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []index.Method{index.Exact, index.HNSW} {
		res, err := sp.Search(v, index.SearchOptions{K: 5, Method: method, Filter: birds})
		if err != nil {
			t.Fatal(err)
		}
		var found []index.ItemID
		for _, r := range res {
			found = append(found, r.ID)
		}
		slices.Sort(found)
		if !slices.Equal(found, []index.ItemID{ids[2], ids[5]}) {
			t.Errorf("%v search among species=2 found %v, want %v", method, found, []index.ItemID{ids[2], ids[5]})
		}
	}
	// An unknown item: nothing of the batch is stored.
	_, err = st.SetLabels(ctx, index.LabelSchema{}, []index.LabelUpdate{{ID: ids[1], Labels: map[string]int{"species": 0}}, {ID: 1 << 30, Labels: map[string]int{"species": 0}}})
	if !errors.Is(err, index.ErrNoItem) {
		t.Fatalf("update of an unknown item: error %v, want ErrNoItem", err)
	}
	if it, _ := st.Item(ids[1]); len(it.Labels) != 2 {
		t.Fatalf("a failed update changed item %d: %+v", ids[1], it)
	}
}
