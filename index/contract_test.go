package index_test

import (
	"path/filepath"
	"testing"

	"simsearch/index"
	"simsearch/index/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) index.Store {
		db, err := index.Open(filepath.Join(t.TempDir(), "contract.db"), index.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return index.FileStore(db)
	})
}

func TestCopySpace(t *testing.T) {
	open := func(t *testing.T) index.Store {
		db, err := index.Open(filepath.Join(t.TempDir(), "copy.db"), index.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return index.FileStore(db)
	}
	storetest.RunCopy(t, open, open)
}
