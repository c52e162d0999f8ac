package index

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

var testSchema = LabelSchema{Labels: []LabelInfo{
	{Name: "species", Kind: Categorical, Classes: []string{"cat", "dog"}},
	{Name: "age", Kind: Continuous, Classes: []string{"< 2", "2 to 7", "≥ 7"}, Edges: []float64{2, 7}},
	{Name: "posX", Kind: Categorical, Classes: []string{"0", "0.5", "1"}, Grid: true},
}}

func TestLabelSchemaRoundTripAndMerge(t *testing.T) {
	got, err := decodeLabelSchema(appendLabelSchema(nil, testSchema))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, testSchema) {
		t.Fatalf("decoded %+v, want %+v", got, testSchema)
	}
	merged, err := testSchema.Merge(LabelSchema{Labels: []LabelInfo{
		{Name: "species", Kind: Categorical, Classes: []string{"dog", "bird"}},
		{Name: "colour", Kind: Categorical, Classes: []string{"red"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := merged.Label("species"); !reflect.DeepEqual(l.Classes, []string{"cat", "dog", "bird"}) {
		t.Errorf("merged classes %v, want cat dog bird (old numbers kept)", l.Classes)
	}
	if _, ok := merged.Label("colour"); !ok {
		t.Errorf("merge lost the new label")
	}
	if _, err := testSchema.Merge(LabelSchema{Labels: []LabelInfo{{Name: "age", Kind: Categorical}}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("merging a label of another kind: error %v, want ErrInvalid", err)
	}
	if got := testSchema.Labels[1].Bin(7); got != 2 {
		t.Errorf("bin of 7 with edges 2, 7 = %d, want 2", got)
	}
}

func TestSetLabelsUpdatesItemsAndFilters(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{Workers: 1})
	items := testItems("x", 50, 1)
	_, ids, _ := populate(t, db, items, 4, 2)
	sp, _ := db.Space("s")
	// A filter runs before the update, so that its selection is cached.
	if res, err := sp.Search([]float32{1, 0, 0, 0}, SearchOptions{K: 5, Filter: Filter{Labels: []LabelIs{{Name: "species", Value: 1}}}}); err != nil || len(res) != 0 {
		t.Fatalf("search among species=1 before the update: %v, %v", res, err)
	}
	updates := []LabelUpdate{
		{ID: ids[3], Labels: map[string]int{"species": 1, "age": 0}, Factors: map[string]float64{"age": 1.5}},
		{ID: ids[7], Labels: map[string]int{"species": 1}},
	}
	if n, err := db.SetLabels(ctx, testSchema, updates); err != nil || n != 2 {
		t.Fatalf("SetLabels: %d changed, %v; want 2", n, err)
	}
	if n, err := db.SetLabels(ctx, LabelSchema{}, updates); err != nil || n != 0 {
		t.Fatalf("SetLabels again: %d changed, %v; want 0", n, err)
	}
	it, err := db.Item(ids[3])
	if err != nil {
		t.Fatal(err)
	}
	if it.Labels["species"] != 1 || it.Labels["shape"] != items[3].Labels["shape"] || it.Factors["age"] != 1.5 || it.Factors["hue"] != items[3].Factors["hue"] {
		t.Fatalf("updated item %+v: new labels set, old ones kept expected", it)
	}
	sel, err := db.Select(Filter{Labels: []LabelIs{{Name: "species", Value: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sel, []ItemID{ids[3], ids[7]}) {
		t.Fatalf("filter species=1 selects %v, want %v", sel, []ItemID{ids[3], ids[7]})
	}
	res, err := sp.Search([]float32{1, 0, 0, 0}, SearchOptions{K: 5, Filter: Filter{Labels: []LabelIs{{Name: "species", Value: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("search among species=1 found %d items, want 2", len(res))
	}
	// An unknown item: nothing of the batch is stored.
	_, err = db.SetLabels(ctx, LabelSchema{}, []LabelUpdate{{ID: ids[1], Labels: map[string]int{"species": 0}}, {ID: 1 << 30, Labels: map[string]int{"species": 0}}})
	if !errors.Is(err, ErrNoItem) {
		t.Fatalf("update of an unknown item: error %v, want ErrNoItem", err)
	}
	if it, _ := db.Item(ids[1]); len(it.Labels) != 2 {
		t.Fatalf("a failed update changed item %d: %+v", ids[1], it)
	}
	db.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	s, err := ro.LabelSchema()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, testSchema) {
		t.Fatalf("stored schema %+v, want %+v", s, testSchema)
	}
}

func FuzzLabelSchema(f *testing.F) {
	f.Add(appendLabelSchema(nil, testSchema))
	f.Add([]byte{labelSchemaVersion, 1, 1, 'a', 1, 0, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeLabelSchema(data)
		if err != nil {
			return
		}
		again, err := decodeLabelSchema(appendLabelSchema(nil, s))
		if err != nil {
			t.Fatalf("re-encoded schema does not decode: %v", err)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("round trip changed the schema: %+v vs %+v", s, again)
		}
	})
}
