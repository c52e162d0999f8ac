package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"simsearch/index"
	"simsearch/index/postgres/pgtest"
	"simsearch/index/storetest"
	"simsearch/index/vectortest"
)

func TestClaimsAndRedact(t *testing.T) {
	for _, c := range []struct {
		target string
		claims bool
		path   string
	}{
		{"postgres://ann:secret@db.lab:5432/simsearch?sslmode=require", true, "postgres://ann@db.lab:5432/simsearch?sslmode=require"},
		{"postgresql:///simsearch?host=/run/postgresql&password=secret", true, "postgresql:///simsearch?host=%2Frun%2Fpostgresql"},
		{"host=db.lab dbname=simsearch password=secret user=ann", true, "host=db.lab dbname=simsearch user=ann"},
		{"dbname=simsearch password='se cret'", true, "dbname=simsearch"},
		{"shapes.db", false, "shapes.db"},
		{"runs/host-a.db", false, "runs/host-a.db"},
	} {
		t.Run(c.target, func(t *testing.T) {
			if got := Claims(c.target); got != c.claims {
				t.Errorf("Claims = %v, want %v", got, c.claims)
			}
			if got := Redact(c.target); got != c.path {
				t.Errorf("Redact = %q, want %q", got, c.path)
			}
		})
	}
}

func TestConnect(t *testing.T) {
	ctx := context.Background()
	target := pgtest.New(t) + " password=hunter2"
	st, err := index.Connect(ctx, target, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*Store); !ok || strings.Contains(st.Path(), "hunter2") {
		t.Fatalf("Connect gave %T at %s", st, st.Path())
	}
	info, err := st.Info()
	if err != nil || info.FormatVersion != SchemaVersion || info.FileSize == 0 {
		t.Fatalf("Info = %+v, %v", info, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Shared(t)
	t.Run("schema version", func(t *testing.T) {
		st, target := open(t, index.Options{})
		if _, err := st.pool.Exec(ctx, "UPDATE simsearch.meta SET version = 99"); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, target, index.Options{})
		if !errors.Is(err, index.ErrVersion) || !strings.Contains(err.Error(), "version 99") {
			t.Fatalf("error %v, want ErrVersion naming version 99", err)
		}
	})
	t.Run("foreign schema", func(t *testing.T) {
		target := pgtest.New(t)
		if err := execIn(ctx, target, "CREATE SCHEMA simsearch; CREATE TABLE simsearch.meta (x int)"); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, target, index.Options{}); !errors.Is(err, index.ErrNotIndex) {
			t.Fatalf("error %v, want ErrNotIndex", err)
		}
	})
	t.Run("read-only, no schema", func(t *testing.T) {
		target := pgtest.New(t)
		_, err := Open(ctx, target, index.Options{ReadOnly: true})
		if !errors.Is(err, index.ErrNotIndex) {
			t.Fatalf("error %v, want ErrNotIndex", err)
		}
	})
	t.Run("no vector extension", func(t *testing.T) {
		// A role that may not create the extension, in a database
		// made without it.
		name := fmt.Sprintf("noext%d", os.Getpid())
		for _, sql := range []string{
			"CREATE ROLE " + name + " LOGIN",
			"CREATE DATABASE " + name + " TEMPLATE template0 OWNER " + name,
		} {
			if err := srv.Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
		}
		target := fmt.Sprintf("host=%s dbname=%s user=%s", srv.Socket, name, name)
		_, err := Open(ctx, target, index.Options{})
		if !errors.Is(err, index.ErrNotIndex) || !strings.Contains(err.Error(), "CREATE EXTENSION vector") {
			t.Fatalf("error %v, want ErrNotIndex saying to run CREATE EXTENSION vector", err)
		}
	})
	t.Run("no server", func(t *testing.T) {
		_, err := Open(ctx, "host="+t.TempDir()+" dbname=x password=hunter2 connect_timeout=2", index.Options{})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("error %v: want one without the password", err)
		}
	})
	t.Run("read-only writes", func(t *testing.T) {
		_, target := open(t, index.Options{})
		ro, err := Open(ctx, target, index.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if _, _, err := ro.AddItems(ctx, storetest.Items("r", 1, 0, 1)); !errors.Is(err, index.ErrReadOnly) {
			t.Fatalf("AddItems: %v, want ErrReadOnly", err)
		}
		// The session is read-only too.
		if _, err := ro.pool.Exec(ctx, "DELETE FROM simsearch.items"); err == nil || !errors.Is(ro.wrap(err), index.ErrReadOnly) {
			t.Fatalf("DELETE in a read-only session: %v", err)
		}
	})
}

func execIn(ctx context.Context, target, sql string) error {
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// TestLostConnection cuts the connection inside AddItems' and
// AddVectors' transactions: nothing of the batch is stored, and sending
// it again stores all of it.
func TestLostConnection(t *testing.T) {
	ctx := context.Background()
	st, _ := open(t, index.Options{})
	kill := func(ctx context.Context, op string) error {
		// The transaction's connection is the one that is busy; end
		// every other simsearch session of this database but ours.
		_, err := st.pool.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`)
		return err
	}
	items := storetest.Items("lost", 100, 0, 1)
	testHookInTransaction = kill
	_, _, err := st.AddItems(ctx, items)
	testHookInTransaction = nil
	if err == nil {
		t.Fatal("AddItems survived its connection")
	}
	if st.Len() != 0 {
		t.Fatalf("a failed batch left %d items", st.Len())
	}
	ids, added, err := st.AddItems(ctx, items)
	if err != nil || added != 100 {
		t.Fatalf("sending again: %d added, %v", added, err)
	}
	sp, err := st.CreateSpace(ctx, index.SpaceConfig{Name: "s", Dim: 8, Encoder: index.Encoder{ID: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	vecs := vectortest.Latent(1, 100, 8, 4, 5, 0.3)
	testHookInTransaction = kill
	_, err = sp.AddVectors(ctx, ids, vecs)
	testHookInTransaction = nil
	if err == nil {
		t.Fatal("AddVectors survived its connection")
	}
	if sp.Len() != 0 || len(sp.Items()) != 0 {
		t.Fatalf("a failed batch left %d vectors", sp.Len())
	}
	if added, err := sp.AddVectors(ctx, ids, vecs); err != nil || added != 100 {
		t.Fatalf("sending again: %d added, %v", added, err)
	}
}

// TestProcesses runs ingestions of the same items from several processes
// at once (this test binary again): no item is stored twice and none is
// lost.
func TestProcesses(t *testing.T) {
	if target := os.Getenv("SIMSEARCH_TEST_INGEST"); target != "" {
		worker, _ := strconv.Atoi(os.Getenv("SIMSEARCH_TEST_WORKER"))
		if err := ingestAll(context.Background(), target, worker); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	_, target := open(t, index.Options{})
	const workers = 3
	cmds := make([]*exec.Cmd, workers)
	for w := range cmds {
		cmds[w] = exec.Command(os.Args[0], "-test.run=^TestProcesses$", "-test.count=1")
		cmds[w].Env = append(os.Environ(), "SIMSEARCH_TEST_INGEST="+target, "SIMSEARCH_TEST_WORKER="+strconv.Itoa(w))
		cmds[w].Stderr = os.Stderr
		if err := cmds[w].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("an ingesting process failed: %v", err)
		}
	}
	st, err := Open(context.Background(), target, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := st.Space("s")
	if err != nil {
		t.Fatal(err)
	}
	var dupes, distinct int
	err = st.pool.QueryRow(context.Background(), "SELECT count(*) - count(DISTINCT hash), count(DISTINCT hash) FROM simsearch.items").Scan(&dupes, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if st.Len() != processItems || distinct != processItems || dupes != 0 || sp.Len() != processItems || len(sp.Items()) != processItems {
		t.Fatalf("%d items (%d distinct), %d vectors (%d rows); want %d of each", st.Len(), distinct, sp.Len(), len(sp.Items()), processItems)
	}
}

const processItems = 3000

// ingestAll is one ingesting process of TestProcesses: every item, in
// an order and batch size of its own, each batch's items then vectors.
func ingestAll(ctx context.Context, target string, worker int) error {
	st, err := Open(ctx, target, index.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	sp, err := st.CreateSpace(ctx, index.SpaceConfig{Name: "s", Dim: 8, Encoder: index.Encoder{ID: "e"}})
	if err != nil {
		return err
	}
	items := storetest.Items("proc", processItems, 0, 5)
	vecs := vectortest.Latent(6, processItems, 8, 4, 10, 0.3)
	step := 100 + 77*worker
	for pass := range processItems/step + 1 {
		start := (pass*step + worker*500) % processItems
		end := min(start+step, processItems)
		ids, _, err := st.AddItems(ctx, items[start:end])
		if err != nil {
			return err
		}
		if _, err := sp.AddVectors(ctx, ids, vecs[start*8:end*8]); err != nil {
			return err
		}
	}
	// What this process's passes skipped, it sends last.
	ids, _, err := st.AddItems(ctx, items)
	if err != nil {
		return err
	}
	_, err = sp.AddVectors(ctx, ids, vecs)
	return err
}
