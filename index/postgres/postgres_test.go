package postgres

import (
	"context"
	"testing"

	"simsearch/index"
	"simsearch/index/postgres/pgtest"
	"simsearch/index/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open connects to a new database of the test cluster.
func open(t testing.TB, opts index.Options) (*Store, string) {
	t.Helper()
	target := pgtest.New(t)
	st, err := Open(context.Background(), target, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, target
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) index.Store {
		st, _ := open(t, index.Options{})
		return st
	})
}
