package hnsw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

func buildSmall(t testing.TB, n int) (*Graph, []float32) {
	t.Helper()
	const dim = 8
	vectors := clusteredVectors(21, n, dim, 5, 1.0)
	g := NewGraph(dim)
	g.M = 6
	g.EfConstruction = 40
	g.Seed = 3
	g.AddBatch(vectors, 1)
	return g, vectors
}

func TestExportImportRoundTrip(t *testing.T) {
	g1, vectors := buildSmall(t, 500)
	g1.Delete(17)
	var buf bytes.Buffer
	if err := g1.Export(&buf); err != nil {
		t.Fatal(err)
	}
	g2 := NewGraph(8)
	g2.EfSearch = 33
	if err := g2.Import(bytes.NewReader(buf.Bytes()), slices.Clone(vectors)); err != nil {
		t.Fatal(err)
	}
	if g2.M != 6 || g2.EfConstruction != 40 || g2.Seed != 3 || g2.EfSearch != 33 {
		t.Errorf("parameters after Import: M %d EfConstruction %d Seed %d EfSearch %d", g2.M, g2.EfConstruction, g2.Seed, g2.EfSearch)
	}
	if g2.Len() != 500 || g2.Deleted() != 1 || !g2.IsDeleted(17) {
		t.Fatalf("Len %d Deleted %d", g2.Len(), g2.Deleted())
	}
	a1, a2 := Analyzer{g1}, Analyzer{g2}
	if !slices.Equal(a1.Topography(), a2.Topography()) {
		t.Fatalf("topography %v vs %v", a1.Topography(), a2.Topography())
	}
	for i := range 50 {
		q := vectors[i*8 : (i+1)*8]
		r1 := g1.Search(q, 10, 20, nil, nil)
		r2 := g2.Search(q, 10, 20, nil, nil)
		if !slices.Equal(r1, r2) {
			t.Fatalf("query %d: %v vs %v", i, r1, r2)
		}
	}
	// Both keep growing the same way.
	extra := clusteredVectors(22, 100, 8, 5, 1.0)
	g1.AddBatch(extra, 1)
	g2.AddBatch(extra, 1)
	var b1, b2 bytes.Buffer
	if err := g1.Export(&b1); err != nil {
		t.Fatal(err)
	}
	if err := g2.Export(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("graphs differ after the same insertions")
	}
}

func TestExportEmptyGraph(t *testing.T) {
	var buf bytes.Buffer
	if err := NewGraph(3).Export(&buf); err != nil {
		t.Fatal(err)
	}
	g := NewGraph(3)
	if err := g.Import(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if g.Len() != 0 || len(g.Search([]float32{1, 0, 0}, 3, 0, nil, nil)) != 0 {
		t.Fatal("empty graph is not empty after Import")
	}
	g.Add([]float32{1, 0, 0})
	if got := g.Search([]float32{1, 0, 0}, 3, 0, nil, nil); len(got) != 1 {
		t.Fatalf("after Add: %v", got)
	}
}

func TestImportRejectsBadInput(t *testing.T) {
	g, vectors := buildSmall(t, 100)
	var buf bytes.Buffer
	if err := g.Export(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	patch := func(offset int, value uint32) []byte {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint32(b[offset:], value)
		return b
	}
	// Header: magic 0, version 4, dim 8, M 12, Ml 16, efc 24, metric 28,
	// seed 29, n 37, entry 41, max level 45, levels 49…
	levelsEnd := 49 + 100
	for _, tc := range []struct {
		name    string
		data    []byte
		vectors []float32
	}{
		{"empty", nil, vectors},
		{"random bytes", []byte("this is not a graph at all, just some text"), vectors},
		{"version 1", patch(4, 1), vectors},
		{"future version", patch(4, 3), vectors},
		{"other dimension", patch(8, 9), vectors},
		{"M of 1", patch(12, 1), vectors},
		{"too few vectors", good, vectors[:len(vectors)-8]},
		{"entry out of range", patch(41, 100), vectors},
		{"truncated in levels", good[:60], vectors},
		{"truncated in links", good[:len(good)/2], vectors},
		{"truncated in tombstones", good[:len(good)-3], vectors},
		{"too many neighbours", patch(levelsEnd, 13), vectors},
		{"neighbour out of range", patch(levelsEnd+4, 1000), vectors},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGraph(8)
			err := g.Import(bytes.NewReader(tc.data), slices.Clone(tc.vectors))
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Import: %v, want ErrFormat", err)
			}
			if g.Len() != 0 {
				t.Fatalf("graph holds %d nodes after a failed Import", g.Len())
			}
		})
	}
}

func FuzzImport(f *testing.F) {
	g, _ := buildSmall(f, 30)
	var buf bytes.Buffer
	if err := g.Export(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("hnsw"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := NewGraph(8)
		vectors := clusteredVectors(21, 30, 8, 5, 1.0)
		if err := g.Import(bytes.NewReader(data), vectors); err != nil {
			return
		}
		// Whatever decoded must be searchable and extendable.
		g.Search(vectors[:8], 5, 10, nil, nil)
		g.Add(vectors[8:16])
	})
}
