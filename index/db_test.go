package index

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"simsearch/index/vectortest"

	bolt "go.etcd.io/bbolt"
)

func TestOpenRejectsForeignAndDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	// A real database to damage.
	good := filepath.Join(dir, "good.db")
	db, err := Open(good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	populate(t, db, testItems("g", 3000, 1), 32, 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	foreign := filepath.Join(dir, "foreign.db")
	other, err := bolt.Open(foreign, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	other.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("widgets"))
		return b.Put([]byte("a"), []byte("b"))
	})
	other.Close()
	future := filepath.Join(dir, "future.db")
	if err := os.WriteFile(future, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fb, err := bolt.Open(future, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	fb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyVersion, binary.BigEndian.AppendUint32(nil, FormatVersion+1))
	})
	fb.Close()

	for _, tc := range []struct {
		name string
		path string
		want error
		text string
	}{
		{"random bytes", write("random.db", random), ErrNotIndex, ""},
		{"text file", write("text.db", []byte("hello, world\n")), ErrNotIndex, ""},
		{"truncated to half", write("half.db", data[:len(data)/2]), ErrCorrupt, "truncated"},
		{"truncated at a page", write("page.db", data[:len(data)/4096/2*4096]), ErrCorrupt, "truncated"},
		{"truncated to 3 pages", write("three.db", data[:3*4096]), ErrCorrupt, ""},
		{"truncated to 100 bytes", write("tiny.db", data[:100]), ErrNotIndex, ""},
		{"another bbolt program", foreign, ErrNotIndex, "another program"},
		{"future version", future, ErrVersion, "newer"},
		{"directory", dir, ErrNotIndex, "directory"},
	} {
		for _, readOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/read-only=%v", tc.name, readOnly), func(t *testing.T) {
				before, _ := os.ReadFile(tc.path)
				db, err := Open(tc.path, Options{ReadOnly: readOnly})
				if err == nil {
					db.Close()
					t.Fatal("Open succeeded")
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open: %v, want %v", err, tc.want)
				}
				if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.text) {
					t.Errorf("error %q does not name the file or say %q", err, tc.text)
				}
				after, _ := os.ReadFile(tc.path)
				if string(before) != string(after) {
					t.Error("Open changed the file")
				}
			})
		}
	}

	if _, err := Open(filepath.Join(dir, "missing.db"), Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("read-only open of a missing file: %v", err)
	}
	empty := write("empty.db", nil)
	if _, err := Open(empty, Options{ReadOnly: true}); !errors.Is(err, ErrNotIndex) {
		t.Errorf("read-only open of an empty file: %v", err)
	}
	// One rule for readers and writers: an empty file is not a database.
	if _, err := Open(empty, Options{}); !errors.Is(err, ErrNotIndex) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("writable open of an empty file: %v, want ErrNotIndex saying it is empty", err)
	}
}

func TestCreateLeavesOnlyTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(holderPath(path)); err != nil {
		t.Errorf("a writer does not record itself: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "new.db" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("folder holds %v after create and close, want only new.db", names)
	}
}

func TestSecondWriterIsInUse(t *testing.T) {
	db, path := openTest(t, Options{})
	if _, _, err := db.AddItems(context.Background(), testItems("u", 10, 1)); err != nil {
		t.Fatal(err)
	}
	for _, readOnly := range []bool{false, true} {
		start := time.Now()
		var told []string
		_, err := Open(path, Options{ReadOnly: readOnly, Timeout: 100 * time.Millisecond, Waiting: func(h string) { told = append(told, h) }})
		if !errors.Is(err, ErrInUse) {
			t.Fatalf("second open (read-only %v): %v, want ErrInUse", readOnly, err)
		}
		pid := fmt.Sprintf("pid %d", os.Getpid())
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), pid) {
			t.Errorf("error %q does not name the file and the writer's %s", err, pid)
		}
		if len(told) != 1 || !strings.Contains(told[0], pid) {
			t.Errorf("Waiting was told %q, want the writer's %s once", told, pid)
		}
		if waited := time.Since(start); waited < 90*time.Millisecond {
			t.Errorf("gave up after %v, before the timeout", waited)
		}
	}
	db.Close()

	// Readers share the file.
	r1, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	defer r2.Close()
	if r2.Len() != 10 {
		t.Fatalf("reader sees %d items", r2.Len())
	}
	if _, _, err := r2.AddItems(context.Background(), testItems("u2", 1, 1)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write on a read-only handle: %v, want ErrReadOnly", err)
	}
	if _, err := Open(path, Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, ErrInUse) {
		t.Errorf("writer beside readers: %v, want ErrInUse", err)
	}
}

func TestAddItemsDeduplicatesAndValidates(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	items := testItems("d", 10, 1)
	items[9].Hash = items[3].Hash // the same content twice in a batch
	items[2].Thumbnail = []byte("\x89PNG fake")
	ids, added, err := db.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if added != 9 || ids[9] != ids[3] || ids[8] != 8 {
		t.Fatalf("ids %v, added %d", ids, added)
	}
	again, added, err := db.AddItems(ctx, items[:5])
	if err != nil || added != 0 || again[4] != ids[4] {
		t.Fatalf("adding again: ids %v, added %d, %v", again, added, err)
	}
	it, err := db.Item(ids[2])
	if err != nil {
		t.Fatal(err)
	}
	if it.Source != items[2].Source || it.Hash != items[2].Hash || it.Split != items[2].Split ||
		it.Labels["shape"] != items[2].Labels["shape"] || it.Factors["hue"] != items[2].Factors["hue"] || it.Thumbnail != nil {
		t.Fatalf("stored item %+v, want %+v", it, items[2])
	}
	if thumb, err := db.Thumbnail(ids[2]); err != nil || string(thumb) != "\x89PNG fake" {
		t.Fatalf("thumbnail %q, %v", thumb, err)
	}
	if thumb, err := db.Thumbnail(ids[1]); err != nil || thumb != nil {
		t.Fatalf("missing thumbnail %q, %v", thumb, err)
	}
	if id, ok, err := db.LookupHash(items[7].Hash); err != nil || !ok || id != ids[7] {
		t.Fatalf("LookupHash: %d %v %v", id, ok, err)
	}
	if _, ok, _ := db.LookupHash(sha256.Sum256([]byte("nothing"))); ok {
		t.Fatal("LookupHash found an unknown hash")
	}
	if _, err := db.Item(100); !errors.Is(err, ErrNoItem) {
		t.Errorf("Item(100): %v, want ErrNoItem", err)
	}
	if got := db.SplitCounts(); got[SplitTrain] != 6 || got[SplitVal] != 3 {
		t.Errorf("split counts %v", got)
	}

	for _, tc := range []struct {
		name string
		edit func(*Item)
	}{
		{"no split", func(it *Item) { it.Split = "" }},
		{"NaN factor", func(it *Item) { it.Factors["hue"] = nan() }},
		{"empty label name", func(it *Item) { it.Labels[""] = 1 }},
		{"label out of range", func(it *Item) { it.Labels["shape"] = 1 << 40 }},
		{"group without set", func(it *Item) { it.Group = "g" }},
		{"huge thumbnail", func(it *Item) { it.Thumbnail = make([]byte, 2<<20) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := testItems("bad-"+tc.name, 3, 2)
			tc.edit(&bad[1])
			_, _, err := db.AddItems(ctx, bad)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "item 1") {
				t.Fatalf("AddItems: %v, want ErrInvalid naming item 1", err)
			}
			if db.Len() != 9 {
				t.Fatalf("%d items after a failed batch, want 9", db.Len())
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

func TestForEachItemAndSelect(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	items := append(testItems("e", 20, 1), probeItems("g", 2, 3, 7)...)
	if _, _, err := db.AddItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	var seen []ItemID
	err := db.ForEachItem(ctx, func(it Item) error {
		seen = append(seen, it.ID)
		if it.Source != items[it.ID].Source {
			t.Errorf("item %d: source %q", it.ID, it.Source)
		}
		return nil
	})
	if err != nil || len(seen) != 26 || seen[25] != 25 {
		t.Fatalf("ForEachItem saw %v, %v", seen, err)
	}
	probes, err := db.Select(Filter{Group: "g"})
	if err != nil || len(probes) != 6 || probes[0] != 20 {
		t.Fatalf("Select group: %v %v", probes, err)
	}
	ordinary, err := db.Select(Filter{})
	if err != nil || len(ordinary) != 20 {
		t.Fatalf("Select all: %d %v", len(ordinary), err)
	}
	// The catalog follows later additions.
	if _, _, err := db.AddItems(ctx, probeItems("h", 1, 2, 9)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Select(Filter{Group: "h"}); len(got) != 2 {
		t.Fatalf("Select after adding: %v", got)
	}
	if db.ProbeCount() != 8 {
		t.Errorf("ProbeCount %d, want 8", db.ProbeCount())
	}
}

func TestSpacesAndEncoders(t *testing.T) {
	db, path := openTest(t, Options{})
	ctx := context.Background()
	ckpt := make([]byte, 9<<20) // several blob chunks
	for i := range ckpt {
		ckpt[i] = byte(i * 7)
	}
	cfg := SpaceConfig{Name: "ae", Dim: 4, Encoder: Encoder{ID: "sha-a", Description: "autoencoder", Resolution: 32, Checkpoint: ckpt}}
	sp, err := db.CreateSpace(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := db.CreateSpace(ctx, cfg); err != nil || again != sp {
		t.Fatalf("creating the same space again: %v", err)
	}
	other := cfg
	other.Encoder.ID = "sha-b"
	if _, err := db.CreateSpace(ctx, other); !errors.Is(err, ErrEncoderMismatch) {
		t.Fatalf("same name, other encoder: %v, want ErrEncoderMismatch", err)
	}
	if err := sp.CheckEncoder("sha-b"); !errors.Is(err, ErrEncoderMismatch) {
		t.Fatalf("CheckEncoder: %v", err)
	}
	if _, err := db.Space("nope"); !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), `"ae"`) {
		t.Fatalf("unknown space: %v", err)
	}
	for _, bad := range []SpaceConfig{
		{Name: "", Dim: 4, Encoder: Encoder{ID: "x"}},
		{Name: "x", Dim: 0, Encoder: Encoder{ID: "x"}},
		{Name: "x", Dim: 4},
		{Name: "x\x00", Dim: 4, Encoder: Encoder{ID: "x"}},
	} {
		if _, err := db.CreateSpace(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateSpace(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	db.Close()

	db2, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	sp2, err := db2.Space("ae")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := sp2.Encoder()
	if err != nil {
		t.Fatal(err)
	}
	if enc.ID != "sha-a" || enc.Description != "autoencoder" || enc.Resolution != 32 || string(enc.Checkpoint) != string(ckpt) {
		t.Fatalf("encoder after reopening: %q %q %d, %d bytes", enc.ID, enc.Description, enc.Resolution, len(enc.Checkpoint))
	}
	info, err := db2.Info()
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Spaces) != 1 || info.Spaces[0].Encoder.Bytes != int64(len(ckpt)) || info.Spaces[0].Metric != Cosine || info.Spaces[0].Graph.M != 16 {
		t.Fatalf("info %+v", info)
	}
}

func TestAddVectorsIsResumable(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	ids, _, err := db.AddItems(ctx, testItems("v", 100, 1))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := db.CreateSpace(ctx, SpaceConfig{Name: "s", Dim: 8, Encoder: Encoder{ID: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	vectors := vectortest.Latent(1, 100, 8, 4, 5, 1.0)
	for _, method := range []Method{Auto, HNSW, Exact} {
		if res, err := sp.Search(vectors[:8], SearchOptions{Method: method}); err != nil || len(res) != 0 {
			t.Fatalf("%v search of an empty space: %v, %v", method, res, err)
		}
	}
	if n, err := sp.AddVectors(ctx, ids[:60], vectors[:60*8]); err != nil || n != 60 {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	missing := sp.Missing(ids)
	if len(missing) != 40 || missing[0] != 60 {
		t.Fatalf("Missing: %v", missing)
	}
	// Send everything again: only the missing ones are added.
	if n, err := sp.AddVectors(ctx, ids, vectors); err != nil || n != 40 {
		t.Fatalf("second batch: %d, %v", n, err)
	}
	if sp.Len() != 100 || len(sp.Missing(ids)) != 0 || !sp.Has(99) {
		t.Fatalf("Len %d", sp.Len())
	}
	for _, tc := range []struct {
		name string
		ids  []ItemID
		vecs []float32
		want error
	}{
		{"unknown item", []ItemID{500}, vectors[:8], ErrNoItem},
		{"short vector", ids[:1], vectors[:7], ErrInvalid},
		{"NaN", ids[:1], append([]float32{nanf()}, vectors[1:8]...), ErrInvalid},
		{"zero vector", ids[:1], make([]float32, 8), ErrInvalid},
	} {
		if _, err := sp.AddVectors(ctx, tc.ids, tc.vecs); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func nanf() float32 { return float32(nan()) }

func TestGraphCatchesUpAndRebuilds(t *testing.T) {
	const dim = 8
	db, path := openTest(t, Options{})
	ctx := context.Background()
	sp, ids, _ := populate(t, db, testItems("cu", 2000, 1), dim, 1)
	if err := sp.SaveGraph(ctx); err != nil {
		t.Fatal(err)
	}
	if info := sp.Info(); !info.Stored.UpToDate || info.Stored.Nodes != 2000 {
		t.Fatalf("after SaveGraph: %+v", info.Stored)
	}
	q := vectortest.Latent(9, 1, dim, 16, 20, 1.0)
	want, err := sp.Search(q, SearchOptions{K: 5, Method: Exact})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Vectors added while the graph is not loaded: the stored graph lags.
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	more, _, err := db.AddItems(ctx, testItems("cu2", 500, 2))
	if err != nil {
		t.Fatal(err)
	}
	sp, _ = db.Space("s")
	if _, err := sp.AddVectors(ctx, more, vectortest.Latent(3, 500, dim, 16, 20, 1.0)); err != nil {
		t.Fatal(err)
	}
	info := sp.Info()
	if info.Stored.UpToDate || info.Stored.Nodes != 2000 || info.Vectors != 2500 {
		t.Fatalf("stored graph %+v of %d vectors", info.Stored, info.Vectors)
	}
	db.Close() // the graph was never loaded: nothing to save

	var built int64
	db, err = Open(path, Options{ReadOnly: true, Progress: func(p Progress) {
		if p.Stage == "build" {
			built = p.Total
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	sp, _ = db.Space("s")
	if _, err := sp.Search(q, SearchOptions{K: 5}); err != nil {
		t.Fatal(err)
	}
	if built != 500 {
		t.Errorf("loading inserted %d vectors, want the 500 the stored graph lacks", built)
	}
	db.Close()

	// A damaged stored graph is rebuilt from the vectors.
	b, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		gb := tx.Bucket(bucketSpaces).Bucket([]byte("s")).Bucket(bucketGraph)
		chunk := append([]byte(nil), gb.Get(binary.BigEndian.AppendUint32(nil, 0))...)
		chunk[len(chunk)/2] ^= 0xff
		return gb.Put(binary.BigEndian.AppendUint32(nil, 0), chunk)
	})
	b.Close()
	built = 0
	db, err = Open(path, Options{Progress: func(p Progress) {
		if p.Stage == "build" {
			built = p.Total
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sp, _ = db.Space("s")
	got, err := sp.Search(q, SearchOptions{K: 5, Method: Exact})
	if err != nil {
		t.Fatal(err)
	}
	if built != 2500 {
		t.Errorf("a damaged graph led to %d insertions, want a rebuild of 2500", built)
	}
	if got[0].ID != want[0].ID && int(got[0].ID) < len(ids) {
		t.Errorf("nearest after rebuild %v, before %v", got[0], want[0])
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, _ = Open(path, Options{ReadOnly: true})
	sp, _ = db.Space("s")
	if info := sp.Info(); !info.Stored.UpToDate {
		t.Errorf("the rebuilt graph was not saved: %+v", info.Stored)
	}
	db.Close()
}
