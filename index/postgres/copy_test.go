package postgres

import (
	"path/filepath"
	"testing"

	"simsearch/index"
	"simsearch/index/storetest"
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
