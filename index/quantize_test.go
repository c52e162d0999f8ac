package index

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"simsearch/index/vectortest"
)

// makeSpaces stores the same clustered vectors in a Float32 space "f" and
// an Int8 space "q" of one database.
func makeSpaces(t *testing.T, db *DB, n, dim int, seed uint64, metric Metric) (float, quant *Space, ids []ItemID, vectors []float32) {
	t.Helper()
	ctx := context.Background()
	ids, _, err := db.AddItems(ctx, testItems("quant", n, seed))
	if err != nil {
		t.Fatal(err)
	}
	vectors = vectortest.Latent(seed, n, dim, 16, 20, 1.0)
	for _, sp := range []struct {
		name    string
		storage Storage
		out     **Space
	}{{"f", Float32, &float}, {"q", Int8, &quant}} {
		s, err := db.CreateSpace(ctx, SpaceConfig{Name: sp.name, Dim: dim, Metric: metric, Storage: sp.storage, Encoder: Encoder{ID: "enc"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddVectors(ctx, ids, vectors); err != nil {
			t.Fatal(err)
		}
		*sp.out = s
	}
	return float, quant, ids, vectors
}

func TestInt8SpaceRecallCloseToFloat32(t *testing.T) {
	const seed, dim = 21, 32
	t.Logf("seed %d", seed)
	for _, metric := range []Metric{Cosine, Euclidean} {
		t.Run(metric.String(), func(t *testing.T) {
			db, _ := openTest(t, Options{Workers: 2})
			float, quant, ids, _ := makeSpaces(t, db, scaled(4000), dim, seed, metric)
			ctx := context.Background()
			queries := SampleItems(ids, 100, seed)
			for _, ef := range []int{16, 48} {
				opts := CheckOptions{Items: queries, Ef: ef}
				f, err := float.Check(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				q, err := quant.Check(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("ef %d: recall@10 float32 %.4f, int8 %.4f", ef, f.Recall, q.Recall)
				if q.Recall < f.Recall-0.02 {
					t.Errorf("ef %d: int8 recall %.4f, float32 %.4f", ef, q.Recall, f.Recall)
				}
			}

			// The results' distances are the full vectors' own.
			a, err := float.SearchItem(ids[5], SearchOptions{K: 10, Ef: 64})
			if err != nil {
				t.Fatal(err)
			}
			b, err := quant.SearchItem(ids[5], SearchOptions{K: 10, Ef: 64})
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != 10 {
				t.Fatalf("%d results, want 10", len(b))
			}
			dists := map[ItemID]float32{}
			for _, r := range a {
				dists[r.ID] = r.Distance
			}
			for i, r := range b {
				if d, ok := dists[r.ID]; ok && math.Abs(float64(d-r.Distance)) > 1e-6 {
					t.Errorf("item %d: distance %v in the int8 space, %v in the float32 one", r.ID, r.Distance, d)
				}
				if i > 0 && r.Distance < b[i-1].Distance {
					t.Errorf("results not sorted: %v after %v", r.Distance, b[i-1].Distance)
				}
			}

			// Stored vectors come back whole, not decoded from the codes.
			fv, err := float.Vectors(ctx, ids[:3])
			if err != nil {
				t.Fatal(err)
			}
			qv, err := quant.Vectors(ctx, ids[:3])
			if err != nil {
				t.Fatal(err)
			}
			one, err := quant.Vector(ids[2])
			if err != nil {
				t.Fatal(err)
			}
			for i := range fv {
				if fv[i] != qv[i] {
					t.Fatalf("value %d: %v from the int8 space, %v stored", i, qv[i], fv[i])
				}
			}
			for i, x := range one {
				if x != fv[2*dim+i] {
					t.Fatalf("Vector value %d: %v, stored %v", i, x, fv[2*dim+i])
				}
			}
		})
	}
}

func TestInt8SpaceReopenedSearchesTheSame(t *testing.T) {
	const seed, dim = 22, 16
	db, path := openTest(t, Options{Workers: 1})
	_, quant, ids, _ := makeSpaces(t, db, 1500, dim, seed, Cosine)
	ctx := context.Background()
	queries := ids[:40]
	before, err := quant.SearchItems(ctx, queries, SearchOptions{K: 10, Ef: 32})
	if err != nil {
		t.Fatal(err)
	}
	info := quant.Info()
	if info.Storage != Int8 || info.Memory.Bytes <= 0 {
		t.Fatalf("info says storage %v, memory %+v", info.Storage, info.Memory)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, Options{ReadOnly: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sp, err := db.Space("q")
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Info(); got.Storage != Int8 || !got.Stored.UpToDate {
		t.Fatalf("reopened: storage %v, stored graph %v", got.Storage, got.Stored)
	}
	after, err := sp.SearchItems(ctx, queries, SearchOptions{K: 10, Ef: 32})
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if len(before[i]) != len(after[i]) {
			t.Fatalf("query %d: %d results, %d after reopening", i, len(before[i]), len(after[i]))
		}
		for j := range before[i] {
			if before[i][j] != after[i][j] {
				t.Fatalf("query %d result %d: %+v, %+v after reopening", i, j, before[i][j], after[i][j])
			}
		}
	}
	f, err := db.Space("f")
	if err != nil {
		t.Fatal(err)
	}
	if fi, qi := f.Info(), sp.Info(); qi.Memory.Bytes >= fi.Memory.Bytes {
		t.Errorf("int8 space holds %d bytes in memory, float32 %d", qi.Memory.Bytes, fi.Memory.Bytes)
	}
}

func TestInt8SpaceGrowsWhileLoaded(t *testing.T) {
	// A space loaded while empty fits its quantizer to the first batch;
	// a writer's later batches move the chunks the searches read in place.
	db, _ := openTest(t, Options{Workers: 2})
	ctx := context.Background()
	const dim = 12
	ids, _, err := db.AddItems(ctx, testItems("grow", 900, 3))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := db.CreateSpace(ctx, SpaceConfig{Name: "q", Dim: dim, Storage: Int8, Encoder: Encoder{ID: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Load(ctx); err != nil {
		t.Fatal(err)
	}
	vectors := vectortest.Latent(3, 900, dim, 6, 8, 1.0)
	for b := 0; b < 900; b += 300 {
		if _, err := sp.AddVectors(ctx, ids[b:b+300], vectors[b*dim:(b+300)*dim]); err != nil {
			t.Fatal(err)
		}
		res, err := sp.Check(ctx, CheckOptions{Queries: 30})
		if err != nil {
			t.Fatal(err)
		}
		if res.Recall < 0.9 {
			t.Errorf("after %d vectors: recall@10 %.3f", b+300, res.Recall)
		}
		got, err := sp.Vector(ids[b+7])
		if err != nil {
			t.Fatal(err)
		}
		want := vectors[(b+7)*dim : (b+8)*dim]
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				t.Fatalf("vector %d value %d: %v, want %v", b+7, i, got[i], want[i])
			}
		}
	}
	if _, err := db.CreateSpace(ctx, SpaceConfig{Name: "q", Dim: dim, Encoder: Encoder{ID: "e"}}); err != nil {
		t.Errorf("reopening an int8 space with the default storage: %v", err)
	}
	if _, err := db.CreateSpace(ctx, SpaceConfig{Name: "q", Dim: dim, Storage: Float32, Encoder: Encoder{ID: "e"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("reopening an int8 space as float32: %v, want ErrInvalid", err)
	}
}

func TestReadsFormat1File(t *testing.T) {
	// testdata/format1.db was written before spaces could be quantized:
	// 250 items, a space "s" of 250 8-d vectors (vectortest.Latent seed 17)
	// whose stored graph covers the first 200.
	src, err := os.Open(filepath.Join("testdata", "format1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "format1.db")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()

	db, err := Open(path, Options{ReadOnly: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sp, err := db.Space("s")
	if err != nil {
		t.Fatal(err)
	}
	info := sp.Info()
	if info.Storage != Float32 || info.Vectors != 250 || info.Stored.Nodes != 200 || info.Encoder.ID != "format-encoder" {
		t.Fatalf("info %+v", info)
	}
	want := vectortest.Latent(17, 250, 8, 4, 5, 1)
	ids := sp.Items()
	got, err := sp.Vectors(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("value %d: %v, want %v", i, got[i], want[i])
		}
	}
	res, err := sp.Check(context.Background(), CheckOptions{Queries: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Recall < 0.95 {
		t.Errorf("recall@10 %.3f", res.Recall)
	}
}

// TestCopySpaceKeepsInt8Storage copies an int8 space to another database
// file, which keeps it int8 with the same neighbours, and into an existing
// float32 space of that name, which stays float32.
func TestCopySpaceKeepsInt8Storage(t *testing.T) {
	ctx := context.Background()
	open := func(name string) *DB {
		db, err := Open(filepath.Join(t.TempDir(), name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	from, to := open("from.db"), open("to.db")
	_, quant, _, vectors := makeSpaces(t, from, 1500, 16, 41, Cosine)
	sum, err := CopySpace(ctx, FileStore(from), FileStore(to), "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Storage != Int8 || !sum.SpaceCreated || sum.VectorsAdded != 1500 {
		t.Fatalf("copy of an int8 space: %+v, want 1500 vectors added to a new int8 space", sum)
	}
	// Again, into the copy: nothing new, still int8.
	if sum, err := CopySpace(ctx, FileStore(from), FileStore(to), "q", nil); err != nil || sum.Storage != Int8 || sum.SpaceCreated || sum.VectorsAdded != 0 {
		t.Fatalf("a second copy into the int8 space: %+v, %v", sum, err)
	}
	// Into a float32 space of that name, which keeps its storage.
	other := open("other.db")
	if _, err := other.CreateSpace(ctx, SpaceConfig{Name: "q", Dim: 16, Metric: Cosine, Storage: Float32, Encoder: Encoder{ID: "enc"}}); err != nil {
		t.Fatal(err)
	}
	if sum, err := CopySpace(ctx, FileStore(from), FileStore(other), "q", nil); err != nil || sum.Storage != Float32 || sum.VectorsAdded != 1500 {
		t.Fatalf("a copy into an existing float32 space: %+v, %v", sum, err)
	}
	dst, err := to.Space("q")
	if err != nil {
		t.Fatal(err)
	}
	if got := dst.Info().Storage; got != Int8 {
		t.Fatalf("the copied space keeps %v vectors, want int8", got)
	}
	opts := SearchOptions{K: 10, Method: HNSW}
	for q := range 5 {
		a, err := quant.Search(vectors[q*16:(q+1)*16], opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dst.Search(vectors[q*16:(q+1)*16], opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) || a[0].Distance != b[0].Distance {
			t.Fatalf("query %d: the copy answers %v, the source %v", q, b, a)
		}
	}
}
