package index

import (
	"bufio"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"simsearch/index/vectortest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The crash test runs the test binary again as a child (TestCrashChild,
// selected by crashEnv) that writes batches to a database and reports each
// commit on stdout; the parent kills it with SIGKILL and checks the file.
const (
	crashEnv   = "SIMSEARCH_INDEX_CRASH_CHILD"
	crashBatch = 400
	crashDim   = 16
)

func crashItems(batch int) []Item {
	items := make([]Item, crashBatch)
	for i := range items {
		src := fmt.Sprintf("crash/%d/%d", batch, i)
		items[i] = Item{Source: src, Hash: sha256.Sum256([]byte(src)), Split: SplitTrain, Labels: map[string]int{"batch": batch}}
	}
	return items
}

func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("run by TestCrashSafety")
	}
	path, mode, _ := strings.Cut(spec, "|")
	mode, storageName, _ := strings.Cut(mode, "|")
	storage, err := ParseStorage(storageName)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	db, err := Open(path, Options{Workers: 2})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	ctx := context.Background()
	sp, err := db.CreateSpace(ctx, SpaceConfig{Name: "s", Dim: crashDim, Storage: storage, Encoder: Encoder{ID: "e"}})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	batch := 0
	testHookInTransaction = func(op string) {
		if (mode == "items" && op == "items" && batch == 3) || (mode == "vectors" && op == "vectors" && batch == 3) {
			fmt.Println("inside")
			select {} // wait for SIGKILL with the transaction open
		}
	}
	for ; ; batch++ {
		ids, _, err := db.AddItems(ctx, crashItems(batch))
		if err == nil {
			_, err = sp.AddVectors(ctx, ids, vectortest.Latent(uint64(batch), crashBatch, crashDim, 8, 10, 1.0))
		}
		if err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Println("committed", batch)
		if batch == 0 && mode == "random" {
			// Keep the graph loaded, so that it is saved (and may be
			// killed while saving) every time it doubles.
			if err := sp.Load(ctx); err != nil {
				fmt.Println("error", err)
				os.Exit(3)
			}
		}
	}
}

// crashSeed replays the kill moments of a failed TestCrashSafety.
var crashSeed = flag.Uint64("crash.seed", 0, "seed of TestCrashSafety's random kill moments (0: from the clock; the test logs the seed it used)")

func TestCrashSafety(t *testing.T) {
	t.Parallel()
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with: go test ./index -run TestCrashSafety -crash.seed %d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, tc := range []struct {
		name    string
		mode    string
		delay   time.Duration // for mode random
		storage Storage
	}{
		{"killed inside an items transaction", "items", 0, Float32},
		{"killed inside a vectors transaction", "vectors", 0, Float32},
		{"killed at a random moment", "random", time.Duration(200+rng.IntN(1500)) * time.Millisecond, Float32},
		{"killed at another random moment", "random", time.Duration(200+rng.IntN(1500)) * time.Millisecond, Float32},
		{"int8 space killed at a random moment", "random", time.Duration(200+rng.IntN(1500)) * time.Millisecond, Int8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crash.db")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
			cmd.Env = append(os.Environ(), crashEnv+"="+path+"|"+tc.mode+"|"+tc.storage.String())
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.mode == "random" {
				time.AfterFunc(tc.delay, func() { cmd.Process.Kill() })
			}
			committed := -1
			scanner := bufio.NewScanner(out)
			for scanner.Scan() {
				line := scanner.Text()
				switch {
				case strings.HasPrefix(line, "committed "):
					committed, _ = strconv.Atoi(strings.TrimPrefix(line, "committed "))
				case line == "inside":
					cmd.Process.Kill() // SIGKILL
				case strings.HasPrefix(line, "error"):
					t.Errorf("child: %s", line)
				}
			}
			cmd.Wait()
			t.Logf("killed after %d committed batches", committed+1)
			if tc.mode != "random" && committed != 2 {
				t.Fatalf("child committed %d batches before the hook, want 3", committed+1)
			}
			checkCrashedFile(t, path, tc.mode, committed)
			if tc.storage != Float32 {
				checkStorage(t, path, tc.storage)
			}
		})
	}
}

// checkCrashedFile checks that the database holds every committed batch
// whole and at most one more, whole or absent.
func checkCrashedFile(t *testing.T, path, mode string, committed int) {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("the crashed file does not open: %v", err)
	}
	defer db.Close()
	items := db.Len()
	if items%crashBatch != 0 {
		t.Fatalf("%d items: a partial batch survived", items)
	}
	batches := items / crashBatch
	if batches < committed+1 || batches > committed+2 {
		t.Fatalf("%d item batches after %d commits", batches, committed+1)
	}
	if mode == "items" && batches != committed+1 {
		t.Fatalf("the uncommitted items batch survived")
	}
	all, err := db.Items(func() []ItemID {
		ids := make([]ItemID, items)
		for i := range ids {
			ids[i] = ItemID(i)
		}
		return ids
	}())
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range all {
		if want := fmt.Sprintf("crash/%d/%d", i/crashBatch, i%crashBatch); it.Source != want {
			t.Fatalf("item %d is %q, want %q", i, it.Source, want)
		}
	}
	sp, err := db.Space("s")
	if err != nil {
		t.Fatal(err)
	}
	vectors := sp.Len()
	if vectors%crashBatch != 0 || vectors/crashBatch < committed+1 || vectors > items {
		t.Fatalf("%d vectors for %d items after %d commits", vectors, items, committed+1)
	}
	if mode == "vectors" && vectors != (committed+1)*crashBatch {
		t.Fatalf("the uncommitted vectors batch survived")
	}
	res, err := sp.Check(context.Background(), CheckOptions{Queries: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Recall < 0.9 {
		t.Errorf("recall@10 after the crash %.3f", res.Recall)
	}
}

// checkStorage checks that the crashed file's space "s" kept its storage.
func checkStorage(t *testing.T, path string, want Storage) {
	t.Helper()
	db, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sp, err := db.Space("s")
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Info().Storage; got != want {
		t.Errorf("space stored as %v after the crash, want %v", got, want)
	}
}
