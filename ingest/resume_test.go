package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/spaces"
)

// The kill test re-runs the test binary as a child process that ingests
// and exits; these variables tell it what to do.
const (
	childDB      = "SIMSEARCH_INGEST_CHILD_DB"
	childEncoder = "SIMSEARCH_INGEST_CHILD_ENCODER"
	childSource  = "SIMSEARCH_INGEST_CHILD_SOURCE"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childDB); path != "" {
		if err := runChild(path, os.Getenv(childEncoder), os.Getenv(childSource)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild ingests source into the space "s" of the database at path, in
// small batches so that a kill finds many transactions under way.
func runChild(path, checkpoint, source string) error {
	model, err := encoder.Load(checkpoint)
	if err != nil {
		return err
	}
	db, err := index.Open(path, index.Options{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	_, err = Run(context.Background(), index.FileStore(db), Options{Source: source, Space: "s", Encoder: model, BatchSize: 8})
	if closeErr := db.Close(); err == nil {
		err = closeErr
	}
	return err
}

// startChild starts a child process ingesting source into the database
// at path.
func startChild(t *testing.T, path, checkpoint, source string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDB+"="+path, childEncoder+"="+checkpoint, childSource+"="+source)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func TestKilledIngestResumes(t *testing.T) {
	spec := dataset.Spec{N: 600, Seed: 11, Res: 16, ValFrac: 0.25}
	if testing.Short() {
		spec.N = 200
	}
	checkpoint := filepath.Join(t.TempDir(), "random.safetensors")
	if err := randomModel(t, 16, 5).Save(checkpoint); err != nil {
		t.Fatal(err)
	}

	// How long an uninterrupted child takes, to kill the others within it.
	scratch := filepath.Join(t.TempDir(), "full.db")
	start := time.Now()
	if err := startChild(t, scratch, checkpoint, spec.String()).Wait(); err != nil {
		t.Fatalf("uninterrupted child: %v", err)
	}
	full := time.Since(start)
	t.Logf("an uninterrupted child takes %v", full.Round(time.Millisecond))

	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0))
			path := filepath.Join(t.TempDir(), "killed.db")
			kills := 1 + rng.IntN(3)
			for k := range kills {
				cmd := startChild(t, path, checkpoint, spec.String())
				delay := time.Duration(rng.Float64() * float64(full))
				time.Sleep(delay)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				_ = cmd.Wait() // killed, or finished before the signal
				items, vectors := counts(t, path)
				t.Logf("seed %d, kill %d after %v: %d items, %d vectors", seed, k+1, delay.Round(time.Millisecond), items, vectors)
			}
			if err := startChild(t, path, checkpoint, spec.String()).Wait(); err != nil {
				t.Fatalf("resuming child: %v", err)
			}
			checkComplete(t, path, spec)
		})
	}
}

// counts returns the number of items and vectors of space "s" in the
// database at path, 0 when the file or the space does not exist yet.
func counts(t *testing.T, path string) (items, vectors int) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return 0, 0
	}
	db, err := index.Open(path, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	info, err := db.Info()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range info.Spaces {
		vectors = s.Vectors
	}
	return info.Items, vectors
}

// checkComplete asserts that the database at path holds every item of spec
// once, each with a vector in space "s", and that the graph finds them.
func checkComplete(t *testing.T, path string, spec dataset.Spec) {
	t.Helper()
	db, err := index.Open(path, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	space, err := db.Space("s")
	if err != nil {
		t.Fatal(err)
	}
	if db.Len() != spec.N || space.Len() != spec.N {
		t.Fatalf("%d items and %d vectors, want %d", db.Len(), space.Len(), spec.N)
	}
	hashes := map[index.Hash]bool{}
	sources := map[string]bool{}
	err = db.ForEachItem(context.Background(), func(it index.Item) error {
		if hashes[it.Hash] {
			t.Errorf("item %d (%s) is a duplicate", it.ID, it.Source)
		}
		hashes[it.Hash] = true
		sources[it.Source] = true
		if !space.Has(it.ID) {
			t.Errorf("item %d (%s) has no vector", it.ID, it.Source)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range spec.N {
		if !sources[spaces.SpecSource(spec, i)] {
			t.Errorf("item %d of the spec is missing", i)
		}
	}
	if info := space.Info(); !info.Stored.UpToDate {
		t.Errorf("stored graph: %v", info.Stored)
	}
	for _, id := range []index.ItemID{0, index.ItemID(spec.N / 2), index.ItemID(spec.N - 1)} {
		v, err := space.Vector(id)
		if err != nil {
			t.Fatal(err)
		}
		res, err := space.Search(v, index.SearchOptions{K: 1, Method: index.HNSW})
		if err != nil || len(res) != 1 || res[0].Distance > 1e-6 {
			t.Errorf("search for item %d: %v, %v", id, res, err)
		}
	}
}
