package ingest

import (
	"context"
	"encoding/binary"
	csvpkg "encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/internal/commandtest"
	"simsearch/internal/npy"
)

// writeNpy writes a float32 array of rows to a new .npy file.
func writeNpy(t *testing.T, rows [][]float32) string {
	t.Helper()
	b := npy.AppendHeader(nil, "<f4", []int{len(rows), len(rows[0])})
	for _, r := range rows {
		for _, v := range r {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	path := filepath.Join(t.TempDir(), "emb.npy")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func tempFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// exported returns n vectors and the CSV of their items in the layout of
// simsearch export: row, item id, source, split, then labels.
func exported(n int) ([][]float32, string) {
	var rows [][]float32
	var csv strings.Builder
	csv.WriteString("row,item id,source,split,animal,weight,size\n")
	animals := []string{"cat", "dog", "owl"}
	for i := range n {
		rows = append(rows, []float32{float32(i%3) + 1, float32(i%5) - 2, 0.5, float32(i)})
		split := "train"
		if i%4 == 0 {
			split = "val"
		}
		fmt.Fprintf(&csv, "%d,%d,photo%02d.jpg,%s,%s,%.2f,%d\n", i, i+100, i, split, animals[i%3], 1.5+float64(i), i%2)
	}
	return rows, csv.String()
}

func TestRunVectors(t *testing.T) {
	db := openDB(t)
	rows, csv := exported(20)
	rows[7] = []float32{0, 0, 0, 0} // no direction: skipped
	opts := VectorsOptions{Vectors: writeNpy(t, rows), Items: tempFile(t, "emb.items.csv", csv), Space: "outside", BatchSize: 6}
	var skipped []string
	opts.OnSkip = func(source, reason string) { skipped = append(skipped, source) }
	sum, err := RunVectors(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.SpaceCreated || sum.AddedItems != 19 || sum.AddedVectors != 19 || sum.Skipped != 1 || sum.Vectors != 19 || len(skipped) != 1 || skipped[0] != "photo07.jpg" {
		t.Errorf("summary %+v, skipped %v", sum, skipped)
	}
	space, err := db.Space("outside")
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := space.Encoder()
	if !encoder.IsPrecomputedSpec(stored.Checkpoint) || space.Dim() != 4 {
		t.Errorf("space encoder %+v", stored)
	}
	ids, _ := db.Select(index.Filter{})
	items, _ := db.Items(ids)
	it := items[2] // row 2
	if it.Source != "photo02.jpg" || it.Split != "train" || it.Labels["animal"] != 2 || it.Labels["size"] != 0 || math.Abs(it.Factors["weight"]-3.5) > 1e-9 {
		t.Errorf("item of row 2: %+v", it)
	}
	if items[0].Split != "val" {
		t.Errorf("row 0 is in split %q", items[0].Split)
	}
	// The text column's class names are the store's.
	schema, err := db.LabelSchema()
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := schema.Label("animal"); !ok || strings.Join(l.Classes, ",") != "cat,dog,owl" || l.Kind != index.Categorical {
		t.Errorf("label schema %+v", schema)
	}
	v, err := space.Vector(it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := math.Sqrt(float64(v[0]*v[0] + v[1]*v[1] + v[2]*v[2] + v[3]*v[3])); math.Abs(n-1) > 1e-6 {
		t.Errorf("vector of norm %v", n)
	}

	// Again: nothing new. Matched by source, the item ids of the CSV
	// being those of another database.
	again, err := RunVectors(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.AddedItems != 0 || again.AddedVectors != 0 || again.Present != 19 || db.Len() != 19 {
		t.Errorf("second run %+v", again)
	}

	// Images cannot go into the space.
	_, err = Run(context.Background(), db, Options{Source: dataset.Spec{N: 4, Seed: 1, Res: 16}.String(), Space: "outside"})
	if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), "precomputed") {
		t.Errorf("images into a space of precomputed vectors: %v", err)
	}
}

func TestRunVectorsMatchesStoredItems(t *testing.T) {
	db := openDB(t)
	spec := dataset.Spec{N: 12, Seed: 3, Res: 16, ValFrac: 0.25}
	run(t, db, Options{Source: spec.String(), Space: "pixels", Encoder: pixelsModel(t, 16)})
	var csv strings.Builder
	w := csvpkg.NewWriter(&csv)
	w.Write([]string{"row", "item_id", "source", "split", "extra"})
	var rows [][]float32
	for i := range 12 {
		it, _ := db.Item(index.ItemID(i))
		w.Write([]string{fmt.Sprint(i), fmt.Sprint(i), it.Source, it.Split, "ignored"})
		rows = append(rows, []float32{1, float32(i), 2})
	}
	w.Flush()
	sum, err := RunVectors(context.Background(), db, VectorsOptions{Vectors: writeNpy(t, rows), Items: tempFile(t, "items.csv", csv.String()), Space: "outside"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.AddedItems != 0 || sum.AddedVectors != 12 || db.Len() != 12 {
		t.Errorf("summary %+v", sum)
	}
	// Precomputed vectors do not go into a space of an encoder.
	_, err = RunVectors(context.Background(), db, VectorsOptions{Vectors: writeNpy(t, rows), Items: tempFile(t, "items.csv", csv.String()), Space: "pixels"})
	if !errors.Is(err, index.ErrEncoderMismatch) {
		t.Errorf("into a space of an encoder: %v", err)
	}
}

func TestRunVectorsBadInput(t *testing.T) {
	rows, csv := exported(5)
	nan := [][]float32{{1, 2, 3, 4}, {1, float32(math.NaN()), 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}}
	for _, c := range []struct {
		name    string
		vectors string
		items   string
		want    string
	}{
		{"fewer rows", writeNpy(t, rows), strings.Join(strings.Split(csv, "\n")[:4], "\n"), "3 rows"},
		{"no item column", writeNpy(t, rows), "label\n1\n2\n3\n4\n5\n", "no item, hash or source column"},
		{"rows out of order", writeNpy(t, rows), strings.Replace(csv, "\n1,", "\n7,", 1), "line 3"},
		{"not finite", writeNpy(t, nan), csv, "row 1"},
		{"not npy", tempFile(t, "emb.npy", "hello"), csv, "not an .npy array"},
		{"one dimension", tempFile(t, "emb.npy", string(npy.AppendHeader(nil, "<f4", []int{5}))+strings.Repeat("\x00", 20)), csv, "shape [5]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t)
			items := c.items
			if !strings.HasSuffix(items, ".csv") {
				items = tempFile(t, "items.csv", c.items)
			}
			_, err := RunVectors(context.Background(), db, VectorsOptions{Vectors: c.vectors, Items: items, Space: "s"})
			if !errors.Is(err, ErrBadVectors) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrBadVectors saying %q", err, c.want)
			}
		})
	}
}

func TestRunWithEncoderCommand(t *testing.T) {
	bin := commandtest.Build(t)
	db := openDB(t)
	spec := dataset.Spec{N: 30, Seed: 2, Res: 16, ValFrac: 0.25}
	start := func(args string) *encoder.Command {
		c, err := encoder.StartCommand(context.Background(), encoder.CommandOptions{Command: bin + args, Res: 16})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	sum := run(t, db, Options{Source: spec.String(), Space: "cmd", Encoder: start(""), BatchSize: 8})
	if sum.AddedVectors != 30 {
		t.Fatalf("summary %+v", sum)
	}
	// The same command, started again (another command line): the same
	// encoder, nothing to add.
	more := dataset.Spec{N: 40, Seed: 2, Res: 16, ValFrac: 0.25}
	sum = run(t, db, Options{Source: more.String(), Space: "cmd", Encoder: start(" -log")})
	if sum.AddedVectors != 10 || sum.Present != 30 {
		t.Errorf("second run %+v", sum)
	}
	// The stored command, when no encoder is given.
	sum = run(t, db, Options{Source: dataset.Spec{N: 45, Seed: 2, Res: 16, ValFrac: 0.25}.String(), Space: "cmd"})
	if sum.AddedVectors != 5 {
		t.Errorf("third run %+v", sum)
	}
	// Another encoder behind a command: refused, unless rebuilt.
	changed := start(" -perturb 0.3")
	_, err := Run(context.Background(), db, Options{Source: more.String(), Space: "cmd", Encoder: changed})
	if !errors.Is(err, encoder.ErrCommandChanged) || !errors.Is(err, index.ErrEncoderMismatch) {
		t.Fatalf("changed command: %v", err)
	}
	sum = run(t, db, Options{Space: "cmd", Encoder: changed, Reembed: true})
	if sum.AddedVectors != 45 || sum.AddedItems != 0 || !sum.SpaceCreated {
		t.Errorf("rebuilt: %+v", sum)
	}
	// A command that dies in the middle: the batches before it are kept.
	db2 := openDB(t)
	_, err = Run(context.Background(), db2, Options{Source: spec.String(), Space: "cmd", Encoder: start(" -fail-after 4"), BatchSize: 8, EmbedBatch: 8})
	if !errors.Is(err, encoder.ErrCommand) || !strings.Contains(err.Error(), "images 17 to 24") {
		t.Fatalf("dying command: %v", err)
	}
	space, _ := db2.Space("cmd")
	if space.Len() != 16 {
		t.Errorf("%d vectors kept, want the 16 of the first two batches", space.Len())
	}
}
