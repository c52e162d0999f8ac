package cli

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/dataset"
	"simsearch/index"
)

// labelledPhotos writes 60 generated images (PNG) and a labels CSV with a
// class column (the shape's name) and a continuous one (the radius).
func labelledPhotos(t *testing.T) (dir, labels string) {
	t.Helper()
	dir = t.TempDir()
	spec := dataset.Spec{N: 60, Seed: 4, Res: 16}
	var b strings.Builder
	b.WriteString("file,kind,radius\n")
	for i := range spec.N {
		name := fmt.Sprintf("img%02d.png", i)
		writeTestPNG(t, filepath.Join(dir, name), spec.Image(i))
		f := spec.Factors(i)
		fmt.Fprintf(&b, "%s,%s,%.3f\n", name, f.Shape, f.Radius)
	}
	labels = writeFile(t, t.TempDir(), "labels.csv", b.String())
	return dir, labels
}

func pixelsCheckpoint(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pixels.safetensors")
	if _, stderr, code := run(t, "train", "--quiet", "--baseline", "pixels", "--res", "16", "--out", path); code != ExitOK {
		t.Fatalf("train: %d %s", code, stderr)
	}
	return path
}

func TestIngestLabelsQueryExport(t *testing.T) {
	photos, labels := labelledPhotos(t)
	db := filepath.Join(t.TempDir(), "photos.db")
	sum := ingestJSON(t, "--db", db, "--encoder", pixelsCheckpoint(t), "--space", "p", "--labels", labels, photos)
	if sum.AddedItems != 60 || !strings.Contains(sum.Labels, "kind (categorical, 3 classes)") || !strings.Contains(sum.Labels, "radius (continuous, 3 bins)") {
		t.Fatalf("ingest summary %+v", sum)
	}
	// Class names filter and show.
	results := queryJSON(t, "--db", db, "--space", "p", "--id", "0", "--filter", "kind=triangle", "-k", "5")
	for _, n := range results[0].Neighbours {
		if n.Labels["kind"] != 2 {
			t.Errorf("kind=triangle gave %+v", n)
		}
	}
	stdout, _, code := run(t, "query", "--db", db, "--space", "p", "--id", "0", "--filter", "kind=circle", "-k", "3")
	if code != ExitOK || !strings.Contains(stdout, "kind=circle") {
		t.Errorf("query text shows no class name: %q", stdout)
	}
	if _, stderr, code := run(t, "query", "--db", db, "--space", "p", "--id", "0", "--filter", "kind=hexagon"); code != ExitUsage || !strings.Contains(stderr, "circle, square, triangle") {
		t.Errorf("unknown class: exit %d, %q", code, stderr)
	}

	out := filepath.Join(t.TempDir(), "emb.npy")
	stdout, stderr, code := run(t, "export", "--db", db, "--out", out)
	if code != ExitOK || !strings.Contains(stdout, "60 rows of 192 dimensions") {
		t.Fatalf("export: %d %q %q", code, stdout, stderr)
	}
	f, err := os.Open(strings.TrimSuffix(out, ".npy") + ".items.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 61 || strings.Join(rows[0], ",") != "row,id,hash,source,split,kind,radius,radius_value" {
		t.Fatalf("items CSV: %v, header %q, %d rows", err, rows[0], len(rows))
	}
}

func TestIngestBadLabelsAndNpz(t *testing.T) {
	photos, labels := labelledPhotos(t)
	pixels := pixelsCheckpoint(t)
	db := filepath.Join(t.TempDir(), "photos.db")
	ingestJSON(t, "--db", db, "--encoder", pixels, "--space", "p", "--labels", labels, photos)
	for _, c := range []struct {
		name, csv, want string
	}{
		{"no file column", "name,kind\nimg00.png,circle\n", "line 1: no column called file"},
		{"disagreeing rows", "file,kind\nimg00.png,circle\nimg00.png,square\n", "line 3"},
		{"not a number", "file,radius\nimg00.png,big\n", "line 2: radius is \"big\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, "ingest", "--quiet", "--db", db, "--space", "p", "--labels", writeFile(t, t.TempDir(), "l.csv", c.csv), photos)
			if code != ExitBadInput || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want %d naming %q", code, stderr, ExitBadInput, c.want)
			}
		})
	}
	st, err := index.Open(db, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Len() != 60 {
		t.Errorf("failed ingests left %d items, want the 60", st.Len())
	}
	st.Close()
	npz := writeFile(t, t.TempDir(), "x.npz", "PK\x05\x06"+strings.Repeat("\x00", 18))
	if _, stderr, code := run(t, "ingest", "--quiet", "--db", db, "--space", "p", npz); code != ExitBadInput || !strings.Contains(stderr, "no imgs") {
		t.Errorf("npz without imgs: exit %d, %q", code, stderr)
	}
}
