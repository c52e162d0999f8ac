package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"simsearch/index"
)

// queryFile returns a database with a space "p" of 60 generated items.
func queryFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pixels := pixelsBaseline(t, filepath.Join(dir, "pixels.safetensors"), 16)
	db := filepath.Join(dir, "q.db")
	ingestJSON(t, "--db", db, "--space", "p", "--encoder", pixels, "shapes:n=60,seed=3,res=16")
	return db
}

func TestQueryText(t *testing.T) {
	db := queryFile(t)
	stdout, stderr, code := run(t, "query", "--db", db, "--id", "7", "-k", "3", "--filter", "shape=circle")
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "query item 7 (shapes:n=60,seed=3,res=16,val=0.375#7, train, shape=") ||
		lines[1] != "3 nearest in space p among shape=circle (exact)" ||
		strings.Join(strings.Fields(lines[2]), " ") != "rank id distance split labels source" {
		t.Fatalf("stdout:\n%s", stdout)
	}
	for _, l := range lines[3:] {
		if !strings.Contains(l, "shape=circle color=") {
			t.Errorf("row %q", l)
		}
	}
}

func TestQuerySample(t *testing.T) {
	db := queryFile(t)
	first := queryJSON(t, "--db", db, "--sample", "4", "--seed", "9", "-k", "2")
	again := queryJSON(t, "--db", db, "--sample", "4", "--seed", "9", "-k", "2")
	other := queryJSON(t, "--db", db, "--sample", "4", "--seed", "10", "-k", "2")
	if len(first) != 4 || len(other) != 4 {
		t.Fatalf("%d and %d results", len(first), len(other))
	}
	same, differ := true, false
	for i := range first {
		q := first[i].Query
		if q.Split != "val" {
			t.Errorf("query %d is a %s item", *q.ID, q.Split)
		}
		for _, n := range first[i].Neighbours {
			if n.ID == *q.ID {
				t.Errorf("sampled query %d finds itself", *q.ID)
			}
		}
		same = same && *q.ID == *again[i].Query.ID
		differ = differ || *q.ID != *other[i].Query.ID
	}
	if !same || !differ {
		t.Errorf("samples do not follow the seed: %v %v", same, differ)
	}
}

func TestQueryRunsBesideAReader(t *testing.T) {
	db := queryFile(t)
	reader, err := index.Open(db, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	results := queryJSON(t, "--db", db, "--id", "3", "-k", "1", "--timeout", "100ms")
	if results[0].Neighbours[0].ID != 3 {
		t.Errorf("result %+v", results[0])
	}
}

func TestQueryErrors(t *testing.T) {
	db := queryFile(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no query", []string{"--db", db}, ExitUsage, "--image PATH, --id N or --sample N"},
		{"image and id", []string{"--db", db, "--id", "1", "--image", "x.png"}, ExitUsage, "not several"},
		{"sample and id", []string{"--db", db, "--id", "1", "--sample", "2"}, ExitUsage, "not several"},
		{"extra argument", []string{"--db", db, "--id", "1", "photo.png"}, ExitUsage, "no arguments"},
		{"filter matches nothing", []string{"--db", db, "--id", "1", "--filter", "split=nosuch"}, ExitUsage, "no item of space p matches --filter split=nosuch"},
		{"image is a folder", []string{"--db", db, "--image", dir}, ExitUsage, "is a folder"},
		{"no db", []string{"--id", "1"}, ExitUsage, "--db"},
		{"bad k", []string{"--db", db, "--id", "1", "-k", "0"}, ExitUsage, "-k"},
		{"unknown item", []string{"--db", db, "--id", "600"}, ExitUsage, "no such item"},
		{"unknown space", []string{"--db", db, "--space", "q", "--id", "1"}, ExitUsage, "no such space"},
		{"bad filter", []string{"--db", db, "--id", "1", "--filter", "color"}, ExitUsage, "split=NAME or LABEL=VALUE"},
		{"unknown label", []string{"--db", db, "--id", "1", "--filter", "mood=3"}, ExitUsage, "no label \"mood\""},
		{"label out of range", []string{"--db", db, "--id", "1", "--filter", "color=8"}, ExitUsage, "from 0 to 7"},
		{"missing image", []string{"--db", db, "--image", filepath.Join(dir, "none.png")}, ExitUsage, "no such file"},
		{"not an image", []string{"--db", db, "--image", db}, ExitBadInput, "not a readable image"},
		{"missing file", []string{"--db", filepath.Join(dir, "none.db"), "--id", "1"}, ExitFailure, "none.db"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"query"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", code, stderr, c.code, c.want)
			}
		})
	}
}
