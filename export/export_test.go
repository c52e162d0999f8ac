package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npz"

	"simsearch/index"
)

// testStore makes a store of 30 items (every third without a vector in
// space s), labelled species (schema) and weight, with 4-d vectors.
func testStore(t *testing.T) (index.Store, map[index.ItemID][]float32) {
	t.Helper()
	ctx := context.Background()
	db, err := index.Open(filepath.Join(t.TempDir(), "e.db"), index.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema := index.LabelSchema{Labels: []index.LabelInfo{
		{Name: "species", Kind: index.Categorical, Classes: []string{"cat", "dog", "bird, small"}},
		{Name: "weight", Kind: index.Continuous, Classes: []string{"< 5", "≥ 5"}, Edges: []float64{5}},
	}}
	if _, err := db.SetLabels(ctx, schema, nil); err != nil {
		t.Fatal(err)
	}
	var items []index.Item
	for i := range 30 {
		split := index.SplitTrain
		if i%4 == 0 {
			split = index.SplitVal
		}
		w := float64(i) / 3
		items = append(items, index.Item{Source: fmt.Sprintf("img/%02d.png", i), Hash: sha256.Sum256([]byte{byte(i)}), Split: split,
			Labels: map[string]int{"species": i % 3, "weight": schema.Labels[1].Bin(w)}, Factors: map[string]float64{"weight": w}})
	}
	ids, _, err := db.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := db.CreateSpace(ctx, index.SpaceConfig{Name: "s", Dim: 4, Metric: index.Euclidean, Encoder: index.Encoder{ID: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[index.ItemID][]float32{}
	var with []index.ItemID
	var flat []float32
	for i, id := range ids {
		if i%3 == 2 {
			continue
		}
		v := []float32{float32(i), -float32(i) / 7, 0.5, 1e-3 * float32(i*i)}
		want[id] = v
		with = append(with, id)
		flat = append(flat, v...)
	}
	if _, err := sp.AddVectors(ctx, with, flat); err != nil {
		t.Fatal(err)
	}
	return index.FileStore(db), want
}

func readCSV(t *testing.T, r io.Reader) [][]string {
	t.Helper()
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkRows checks the matrix and the CSV against the stored vectors.
func checkRows(t *testing.T, vectors []float32, shape []int, rows [][]string, want map[index.ItemID][]float32, n int) {
	t.Helper()
	if !slices.Equal(shape, []int{n, 4}) || len(vectors) != n*4 {
		t.Fatalf("matrix of shape %v with %d values, want %d×4", shape, len(vectors), n)
	}
	if got := strings.Join(rows[0], ","); got != "row,id,hash,source,split,species,weight,weight_value" {
		t.Fatalf("CSV header %q", got)
	}
	if len(rows) != n+1 {
		t.Fatalf("CSV of %d rows, want %d", len(rows)-1, n)
	}
	for r, rec := range rows[1:] {
		var id index.ItemID
		fmt.Sscan(rec[1], &id)
		if rec[0] != fmt.Sprint(r) || !slices.Equal(vectors[4*r:4*r+4], want[id]) {
			t.Fatalf("row %d (%q): vector %v, want item %d's %v", r, rec, vectors[4*r:4*r+4], id, want[id])
		}
		if i := int(id); rec[5] != []string{"cat", "dog", "bird, small"}[i%3] || rec[7] != fmt.Sprint(float64(i)/3) || rec[2] != fmt.Sprint(index.Hash(sha256.Sum256([]byte{byte(i)}))) {
			t.Fatalf("row %d: %q", r, rec)
		}
	}
}

func TestExportNpyRoundTrip(t *testing.T) {
	st, want := testStore(t)
	out := filepath.Join(t.TempDir(), "emb.npy")
	sum, err := Run(context.Background(), st, Options{Space: "s", Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 20 || sum.Dim != 4 || !slices.Equal(sum.Files, []string{out, strings.TrimSuffix(out, ".npy") + ".items.csv"}) {
		t.Fatalf("summary %+v", sum)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npy.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var vectors []float32
	if err := r.Read(&vectors); err != nil {
		t.Fatal(err)
	}
	c, err := os.Open(sum.Files[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkRows(t, vectors, r.Header.Descr.Shape, readCSV(t, c), want, 20)

	// A filter keeps some rows only.
	sum, err = Run(context.Background(), st, Options{Space: "s", Out: out, Filter: index.Filter{Splits: []string{index.SplitVal}, Labels: []index.LabelIs{{Name: "species", Value: 0}}}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 3 { // items 0, 12 and 24: val, cat, with a vector
		t.Fatalf("filtered export of %d rows, want 3", sum.Rows)
	}
	if _, err := Run(context.Background(), st, Options{Space: "s", Out: out, Filter: index.Filter{Splits: []string{"test"}}}); !errors.Is(err, ErrNothing) {
		t.Fatalf("export of nothing: %v, want ErrNothing", err)
	}
}

func TestExportNpzRoundTrip(t *testing.T) {
	st, want := testStore(t)
	out := filepath.Join(t.TempDir(), "emb.npy")
	sum, err := Run(context.Background(), st, Options{Space: "s", Out: out, Format: FormatNpz})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Files) != 1 || filepath.Ext(sum.Files[0]) != ".npz" {
		t.Fatalf("files %v, want one .npz", sum.Files)
	}
	z, err := npz.Open(sum.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var vectors []float32
	if err := z.Read("vectors.npy", &vectors); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := z.Read("ids.npy", &ids); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(sum.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var items []byte
	for _, f := range zr.File {
		if f.Name == "items.csv" {
			rc, _ := f.Open()
			items, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	rows := readCSV(t, bytes.NewReader(items))
	checkRows(t, vectors, z.Header("vectors.npy").Descr.Shape, rows, want, 20)
	for r, id := range ids {
		if rows[r+1][1] != fmt.Sprint(id) {
			t.Fatalf("ids[%d] = %d, CSV says %s", r, id, rows[r+1][1])
		}
	}
}
