package postgres

import (
	"context"
	"path/filepath"
	"testing"

	"simsearch/index"
	"simsearch/index/storetest"
	"simsearch/index/vectortest"
)

func openFile(t *testing.T) index.Store {
	db, err := index.Open(filepath.Join(t.TempDir(), "copy.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return index.FileStore(db)
}

func openServer(t *testing.T) index.Store {
	st, _ := open(t, index.Options{})
	return st
}

func TestCopySpace(t *testing.T) {
	t.Run("file to server", func(t *testing.T) { storetest.RunCopy(t, openFile, openServer) })
	t.Run("server to file", func(t *testing.T) { storetest.RunCopy(t, openServer, openFile) })
}

// TestCopyInt8SpaceToServer copies a space stored int8 in a file to the
// server, which keeps float32 vectors: the copy is made, as float32.
func TestCopyInt8SpaceToServer(t *testing.T) {
	ctx := context.Background()
	from, to := openFile(t), openServer(t)
	const n, dim = 600, 8
	ids, _, err := from.AddItems(ctx, storetest.Items("q8", n, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := from.CreateSpace(ctx, index.SpaceConfig{Name: "q", Dim: dim, Storage: index.Int8, Encoder: index.Encoder{ID: "enc-q"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.AddVectors(ctx, ids, vectortest.Latent(6, n, dim, 4, 10, 0.5)); err != nil {
		t.Fatal(err)
	}
	sum, err := index.CopySpace(ctx, from, to, "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Storage != index.Float32 || sum.VectorsAdded != n {
		t.Fatalf("copy of an int8 space to the server: %+v, want %d float32 vectors", sum, n)
	}
}
