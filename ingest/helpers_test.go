package ingest

import (
	"context"
	"path/filepath"
	"testing"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
)

// openDB opens a new database file in a temporary folder, closed at the
// end of the test.
func openDB(t testing.TB) index.Store {
	t.Helper()
	db, err := index.Open(filepath.Join(t.TempDir(), "test.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return index.FileStore(db)
}

// pixelsModel returns the pixels baseline at res: the fastest encoder.
func pixelsModel(t testing.TB, res int) *encoder.Model {
	t.Helper()
	m, err := encoder.NewBaseline(encoder.BaselineOptions{Objective: encoder.Pixels, Res: res, Pool: min(res, 4)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randomModel returns a small randomly initialized network at res.
func randomModel(t testing.TB, res int, seed uint64) *encoder.Model {
	t.Helper()
	m, err := encoder.NewBaseline(encoder.BaselineOptions{Objective: encoder.Random, Res: res, Width: 4, Latent: 16, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// writeFolder writes the dataset of spec into a new temporary folder.
func writeFolder(t testing.TB, spec dataset.Spec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shapes")
	if err := dataset.WriteFolder(context.Background(), dir, spec, dataset.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run ingests with opts and fails the test on an error.
func run(t testing.TB, db index.Store, opts Options) Summary {
	t.Helper()
	sum, err := Run(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("Run(%+v): %v", opts, err)
	}
	return sum
}

// encoderOptions are the embedding options of Run's zero Options.
func encoderOptions() encoder.EmbedOptions { return encoder.EmbedOptions{} }
