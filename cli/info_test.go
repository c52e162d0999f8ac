package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/index"
)

// makeIndexFile writes a database with n items (train and val) and, for
// each name, a 16-d cosine space with a vector per item, and returns its
// path.
func makeIndexFile(t *testing.T, n int, spaces ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := index.Open(path, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	items := make([]index.Item, n)
	for i := range items {
		src := fmt.Sprintf("item/%d", i)
		split := index.SplitTrain
		if i%4 == 3 {
			split = index.SplitVal
		}
		items[i] = index.Item{Source: src, Hash: sha256.Sum256([]byte(src)), Split: split, Labels: map[string]int{"shape": i % 3}}
	}
	items = append(items, index.Item{Source: "probe", Hash: sha256.Sum256([]byte("probe")), Split: index.SplitProbe, SetID: 1, Group: "g"})
	ids, _, err := db.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	const dim = 16
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range spaces {
		sp, err := db.CreateSpace(ctx, index.SpaceConfig{Name: name, Dim: dim,
			Encoder: index.Encoder{ID: "sha-" + name, Description: "test encoder", Resolution: 32, Checkpoint: make([]byte, 3000)}})
		if err != nil {
			t.Fatal(err)
		}
		vectors := make([]float32, len(ids)*dim)
		for i := range vectors {
			vectors[i] = float32(rng.NormFloat64() + 3*math.Sin(float64(i/dim%7)+float64(i%dim)))
		}
		if _, err := sp.AddVectors(ctx, ids, vectors); err != nil {
			t.Fatal(err)
		}
		if err := sp.SaveGraph(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInfo(t *testing.T) {
	path := makeIndexFile(t, 400, "ae", "contrastive-A")
	stdout, stderr, code := run(t, "info", "--db", path)
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	words := strings.Join(strings.Fields(stdout), " ")
	for _, want := range []string{
		path, "format 1",
		"401: probe 1, train 300, val 100; 1 in probe sets",
		"space ae", "space contrastive-A",
		"401 of dimension 16, cosine",
		"M 16, ef_construction 200, ef_search 96",
		"stored, up to date",
		"sha-contrastive-A (test encoder, 32 px, 2.9 KiB checkpoint)",
	} {
		if !strings.Contains(words, want) {
			t.Errorf("info does not say %q:\n%s", want, stdout)
		}
	}

	stdout, _, code = run(t, "info", "--db", path, "--json")
	var res struct {
		Type string `json:"type"`
		index.Info
	}
	if err := json.Unmarshal([]byte(stdout), &res); code != ExitOK || err != nil {
		t.Fatalf("exit code %d, stdout %q: %v", code, stdout, err)
	}
	if res.Type != "info" || res.Items != 401 || res.Splits["train"] != 300 || len(res.Spaces) != 2 ||
		res.Spaces[1].Name != "contrastive-A" || res.Spaces[1].Vectors != 401 || !res.Spaces[1].Stored.UpToDate ||
		res.Spaces[1].Encoder.ID != "sha-contrastive-A" || res.Spaces[1].Metric != index.Cosine {
		t.Fatalf("info JSON %+v", res)
	}
	if !strings.Contains(stdout, `"metric":"cosine"`) {
		t.Errorf("metric not written as a name: %s", stdout)
	}
}

func TestInfoErrors(t *testing.T) {
	dir := t.TempDir()
	path := makeIndexFile(t, 10)
	db, err := index.Open(path, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "info", "--db", path, "--timeout", "100ms")
	db.Close()
	if code != ExitInUse || !strings.Contains(stderr, "is in use by") || !strings.Contains(stderr, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("file in use: exit code %d, stderr %q", code, stderr)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no --db", []string{"info"}, ExitUsage, "db"},
		{"missing file", []string{"info", "--db", filepath.Join(dir, "nope.db")}, ExitFailure, "no such file"},
		{"not a database", []string{"info", "--db", writeFile(t, dir, "x.db", "hello")}, ExitBadInput, "not a simsearch database"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.says) {
				t.Fatalf("exit code %d (want %d), stderr %q", code, c.code, stderr)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	path := makeIndexFile(t, 1500, "only")
	stdout, stderr, code := run(t, "check", "--db", path, "--queries", "100", "--quiet")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"space only: 1,501 vectors, 100 queries, k 10, ef 96", "recall@10", "hnsw", "exact", "queries/s"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check does not say %q:\n%s", want, stdout)
		}
	}

	stdout, _, code = run(t, "check", "--db", path, "--space", "only", "--queries", "50", "-k", "5", "--ef", "100", "--split", "train", "--json", "--quiet")
	var res struct {
		Type string `json:"type"`
		index.CheckResult
	}
	if err := json.Unmarshal([]byte(stdout), &res); code != ExitOK || err != nil {
		t.Fatalf("exit code %d, stdout %q: %v", code, stdout, err)
	}
	if res.Type != "check" || res.Queries != 50 || res.K != 5 || res.Ef != 100 || res.Recall < 0.9 || res.Recall > 1 ||
		res.HNSWQueriesPerSecond <= 0 || res.ExactQueriesPerSecond <= 0 {
		t.Fatalf("check JSON %+v", res)
	}
}

func TestCheckErrors(t *testing.T) {
	two := makeIndexFile(t, 50, "a", "b")
	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"space needed", []string{"check", "--db", two}, ExitUsage, "holds 2 spaces (a, b)"},
		{"unknown space", []string{"check", "--db", two, "--space", "c"}, ExitUsage, `no such space (the file holds "a", "b")`},
		{"bad k", []string{"check", "--db", two, "--space", "a", "-k", "0"}, ExitUsage, "-k"},
		{"bad queries", []string{"check", "--db", two, "--space", "a", "--queries", "0"}, ExitUsage, "--queries"},
		{"split matches nothing", []string{"check", "--db", two, "--space", "a", "--split", "nosuch"}, ExitUsage, "matches --split nosuch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.says) {
				t.Fatalf("exit code %d (want %d), stderr %q", code, c.code, stderr)
			}
		})
	}
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
