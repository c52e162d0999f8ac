package cli

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"simsearch/dataset"
	"simsearch/index"
	"simsearch/ingest"
	"simsearch/report/render"
	"simsearch/spaces"
)

// ingestJSON runs ingest with --json and returns its summary.
func ingestJSON(t *testing.T, args ...string) ingest.Summary {
	t.Helper()
	stdout, stderr, code := run(t, append([]string{"ingest", "--json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("ingest %v: exit code %d, stderr %q", args, code, stderr)
	}
	var res struct {
		Type string `json:"type"`
		ingest.Summary
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Type != "ingest" {
		t.Fatalf("ingest %v: stdout %q: %v", args, stdout, err)
	}
	return res.Summary
}

// queryJSON runs query with --json and returns its results.
func queryJSON(t *testing.T, args ...string) []spaces.Result {
	t.Helper()
	stdout, stderr, code := run(t, append([]string{"query", "--json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("query %v: exit code %d, stderr %q", args, code, stderr)
	}
	var results []spaces.Result
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var res struct {
			Type string `json:"type"`
			spaces.Result
		}
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("query %v: line %q: %v", args, line, err)
		}
		if res.Type == "query" {
			results = append(results, res.Result)
		}
	}
	return results
}

// TestGenerateTrainIngestQuery runs the chain on a tiny dataset: generate,
// train a tiny encoder, ingest, then query by id and by file, each finding
// itself first at distance 0.
func TestGenerateTrainIngestQuery(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "shapes")
	enc := filepath.Join(dir, "enc-A.safetensors")
	db := filepath.Join(dir, "shapes.db")
	if _, stderr, code := run(t, "generate", "--n", "200", "--res", "16", "--out", data, "--quiet"); code != ExitOK {
		t.Fatalf("generate: %d %s", code, stderr)
	}
	if _, stderr, code := run(t, "train", "--objective", "contrastive", "--aug", "A", "--data", data,
		"--width", "8", "--latent", "16", "--epochs", "2", "--batch", "32", "--out", enc, "--quiet"); code != ExitOK {
		t.Fatalf("train: %d %s", code, stderr)
	}

	sum := ingestJSON(t, "--db", db, "--encoder", enc, data)
	if sum.Space != "enc-A" || !sum.SpaceCreated || sum.Kind != "dataset folder" || sum.Images != 200 ||
		sum.AddedItems != 200 || sum.AddedVectors != 200 || sum.Present != 0 || sum.Skipped != 0 || sum.Vectors != 200 {
		t.Fatalf("first ingest: %+v", sum)
	}
	sum = ingestJSON(t, "--db", db, "--encoder", enc, data)
	if sum.AddedItems != 0 || sum.AddedVectors != 0 || sum.Present != 200 || sum.SpaceCreated {
		t.Fatalf("second ingest: %+v", sum)
	}

	// By id: the item itself first, at distance 0, then farther items.
	results := queryJSON(t, "--db", db, "--space", "enc-A", "--id", "17", "-k", "5")
	if len(results) != 1 {
		t.Fatalf("%d results", len(results))
	}
	r := results[0]
	if r.Space != "enc-A" || r.Query.ID == nil || *r.Query.ID != 17 || r.Query.Source != filepath.Join(data, "000017.png") ||
		len(r.Neighbours) != 5 || r.Neighbours[0].ID != 17 || r.Neighbours[0].Distance != 0 || r.Neighbours[0].Rank != 1 {
		t.Fatalf("query by id: %+v", r)
	}
	for i := 1; i < len(r.Neighbours); i++ {
		if r.Neighbours[i].Distance < r.Neighbours[i-1].Distance || r.Neighbours[i].ID == 17 {
			t.Errorf("neighbours out of order: %+v", r.Neighbours)
		}
	}
	if want := dataset.LabelNames; len(r.Neighbours[0].Labels) != len(want) {
		t.Errorf("labels %v", r.Neighbours[0].Labels)
	}

	// By file: the same, with the space named implicitly (the file holds one).
	results = queryJSON(t, "--db", db, "--image", filepath.Join(data, "000123.png"), "-k", "3", "--exact")
	r = results[0]
	if r.Query.ID == nil || *r.Query.ID != 123 || r.Method != "exact" || r.Neighbours[0].ID != 123 || r.Neighbours[0].Distance > 1e-6 {
		t.Fatalf("query by file: %+v", r)
	}

	// A filter keeps only the training items with color 3.
	results = queryJSON(t, "--db", db, "--id", "150", "--filter", "split=train", "--filter", "color=3", "-k", "4")
	for _, n := range results[0].Neighbours {
		if n.Split != "train" || n.Labels["color"] != 3 {
			t.Errorf("filtered neighbour %+v", n)
		}
	}

	// Text output, and a grid of sampled validation queries.
	grid := filepath.Join(dir, "grid.png")
	stdout, stderr, code := run(t, "query", "--db", db, "--space", "enc-A", "--sample", "3", "--filter", "split=train", "-k", "6", "--grid", grid)
	if code != ExitOK {
		t.Fatalf("query --sample --grid: exit code %d, stderr %q", code, stderr)
	}
	if n := strings.Count(stdout, "6 nearest in space enc-A among split=train"); n != 3 {
		t.Errorf("%d tables of results in:\n%s", n, stdout)
	}
	if !strings.Contains(stdout, "wrote "+grid+": 3 queries × 6 neighbours") || !strings.Contains(stdout, ", val, shape=") {
		t.Errorf("stdout:\n%s", stdout)
	}
	checkGrid(t, grid, 3, 6)

	// A second space over the same items, embedded from their sources.
	pixels := pixelsBaseline(t, filepath.Join(dir, "pixels.safetensors"), 16)
	sum = ingestJSON(t, "--db", db, "--encoder", pixels)
	if sum.Space != "pixels" || sum.Kind != "stored sources" || sum.AddedItems != 0 || sum.AddedVectors != 200 {
		t.Fatalf("second space: %+v", sum)
	}
	results = queryJSON(t, "--db", db, "--space", "pixels", "--image", filepath.Join(data, "000005.png"), "-k", "1")
	if results[0].Neighbours[0].ID != 5 || results[0].Neighbours[0].Distance > 1e-6 {
		t.Fatalf("query in the second space: %+v", results[0])
	}
}

// checkGrid asserts that the PNG at path is a grid of rows × (k+1) cells
// of at least 96 pixels.
func checkGrid(t *testing.T, path string, rows, k int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	size := img.Bounds().Size()
	if size.X < (k+1)*render.GridMinCell || size.Y < rows*render.GridMinCell || size.X > (k+1)*(render.GridMinCell+8)+400 || size.Y > rows*(render.GridMinCell+24)+100 {
		t.Errorf("grid of %v pixels for %d rows of %d neighbours", size, rows, k)
	}
}

func TestIngestSkipsAndStrict(t *testing.T) {
	dir := t.TempDir()
	images := shapesFolder(t, dir, 3, 1, 16)
	if err := os.WriteFile(filepath.Join(images, "zz-notes.png"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	pixels := pixelsBaseline(t, filepath.Join(dir, "pixels.safetensors"), 16)
	db := filepath.Join(dir, "photos.db")

	stdout, stderr, code := run(t, "ingest", "--db", db, "--encoder", pixels, "--quiet", images)
	if code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stderr, "skipped "+filepath.Join(images, "zz-notes.png")+": not a readable image") {
		t.Errorf("stderr does not report the skip: %q", stderr)
	}
	for _, want := range []string{"ingested " + images + " (image folder) into space pixels (created)", "added items      3", "skipped          1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary does not say %q:\n%s", want, stdout)
		}
	}

	_, stderr, code = run(t, "ingest", "--db", db, "--encoder", pixels, "--strict", "--quiet", images)
	if code != ExitBadInput || !strings.Contains(stderr, "zz-notes.png: not a readable image") {
		t.Errorf("--strict: exit code %d, stderr %q", code, stderr)
	}
	d, err := index.Open(db, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 {
		t.Errorf("%d items after --strict, want the 3 stored before", d.Len())
	}
	d.Close()
}

// TestIngestSkipsZeroVectors checks that an image the encoder maps to a
// zero vector (black, under the pixels baseline) is skipped with a reason
// and the rest ingested, on every run; and that querying with it says why.
func TestIngestSkipsZeroVectors(t *testing.T) {
	dir := t.TempDir()
	images := shapesFolder(t, dir, 3, 1, 32)
	black := filepath.Join(images, "black.png")
	writeTestPNG(t, black, image.NewRGBA(image.Rect(0, 0, 32, 32)))
	writeTestPNG(t, filepath.Join(images, "dot.png"), image.NewRGBA(image.Rect(0, 0, 1, 1)))
	pixels := pixelsBaseline(t, filepath.Join(dir, "pix.safetensors"), 32)
	db := filepath.Join(dir, "s.db")
	for round := range 2 {
		stdout, stderr, code := run(t, "ingest", "--db", db, "--encoder", pixels, images)
		if code != ExitOK {
			t.Fatalf("round %d: exit code %d, stderr %q", round, code, stderr)
		}
		if !strings.Contains(stderr, "skipped "+black+": the encoder maps the image to a zero vector") {
			t.Errorf("round %d: the black image's skip is not told: %q", round, stderr)
		}
		if !strings.Contains(stdout, "skipped          2") || !strings.Contains(stdout, "3 vectors") {
			t.Errorf("round %d: summary:\n%s", round, stdout)
		}
	}
	_, stderr, code := run(t, "query", "--db", db, "--image", black)
	if code != ExitBadInput || !strings.Contains(stderr, "zero vector") {
		t.Errorf("query with a black image: exit code %d, stderr %q; want %d", code, stderr, ExitBadInput)
	}
}

// TestIngestEdges checks a folder given through a symbolic link, an
// unreadable file under --strict, and a failed first ingest that must
// leave no database file behind.
func TestIngestEdges(t *testing.T) {
	dir := t.TempDir()
	images := shapesFolder(t, dir, 2, 1, 16)
	pixels := pixelsBaseline(t, filepath.Join(dir, "pix.safetensors"), 16)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(images, link); err != nil {
		t.Fatal(err)
	}
	sum := ingestJSON(t, "--db", filepath.Join(dir, "a.db"), "--encoder", pixels, link)
	if sum.AddedItems != 2 {
		t.Errorf("through a link to the folder: %+v", sum)
	}

	if err := os.Symlink(filepath.Join(dir, "gone.png"), filepath.Join(images, "zz-broken.png")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "ingest", "--quiet", "--strict", "--db", filepath.Join(dir, "b.db"), "--encoder", pixels, images)
	if code != ExitBadInput || !strings.Contains(stderr, "zz-broken.png") {
		t.Errorf("--strict with an unreadable file: exit code %d, stderr %q; want %d", code, stderr, ExitBadInput)
	}

	missing := filepath.Join(dir, "c.db")
	if _, _, code := run(t, "ingest", "--quiet", "--db", missing, "--encoder", pixels, filepath.Join(dir, "nothing")); code != ExitUsage {
		t.Errorf("missing source: exit code %d", code)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a failed ingest of a missing source left %s (%v)", missing, err)
	}
}

func writeTestPNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIngestErrors(t *testing.T) {
	dir := t.TempDir()
	pixels := filepath.Join(dir, "pixels.safetensors")
	random := filepath.Join(dir, "random.safetensors")
	for _, args := range [][]string{
		{"--baseline", "pixels", "--res", "16", "--out", pixels},
		{"--baseline", "random", "--res", "16", "--width", "4", "--latent", "8", "--out", random},
	} {
		if _, stderr, code := run(t, append([]string{"train", "--quiet"}, args...)...); code != ExitOK {
			t.Fatalf("train %v: %d %s", args, code, stderr)
		}
	}
	db := filepath.Join(dir, "x.db")
	ingestJSON(t, "--db", db, "--space", "s", "--encoder", pixels, "shapes:n=10,res=16")

	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no db", []string{"--encoder", pixels, "shapes:n=10,res=16"}, ExitUsage, "--db"},
		{"no encoder nor space", []string{"--db", db, "shapes:n=10,res=16"}, ExitUsage, "--encoder"},
		{"new space without encoder", []string{"--db", db, "--space", "t", "shapes:n=10,res=16"}, ExitUsage, "give the encoder"},
		{"other encoder", []string{"--db", db, "--space", "s", "--encoder", random, "shapes:n=10,res=16"}, ExitBadInput, "space holds another encoder"},
		{"missing source", []string{"--db", db, "--space", "s", filepath.Join(dir, "nothing")}, ExitUsage, "no such file or folder"},
		{"bad spec", []string{"--db", db, "--space", "s", "shapes:n=0"}, ExitUsage, "generator spec"},
		{"flags after the source", []string{"--db", db, "--space", "s", "shapes:n=10,res=16", "--json"}, ExitUsage, "flags go before SOURCE"},
		{"bad batch", []string{"--db", db, "--space", "s", "--batch", "0", "shapes:n=10,res=16"}, ExitUsage, "--batch"},
		{"missing checkpoint", []string{"--db", db, "--encoder", filepath.Join(dir, "none.safetensors"), "shapes:n=10,res=16"}, ExitFailure, "no such file"},
		{"not a checkpoint", []string{"--db", db, "--encoder", db, "shapes:n=10,res=16"}, ExitBadInput, "checkpoint"},
		{"empty database file", []string{"--db", writeFile(t, dir, "empty.db", ""), "--encoder", pixels, "shapes:n=10,res=16"}, ExitBadInput, "the file is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"ingest", "--quiet"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", code, stderr, c.code, c.want)
			}
		})
	}
}

// shapesFolder writes n generated shapes of res pixels as PNG files into
// dir/images and returns that folder.
func shapesFolder(t *testing.T, dir string, n int, seed uint64, res int) string {
	t.Helper()
	images := filepath.Join(dir, "images")
	if err := os.MkdirAll(images, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := dataset.Spec{N: n, Seed: seed, Res: res, ValFrac: 0}
	for i := range spec.N {
		writeTestPNG(t, filepath.Join(images, spec.ImageFile(i)), spec.Image(i))
	}
	return images
}

// pixelsBaseline writes the pixels baseline at res pixels to path and
// returns path.
func pixelsBaseline(t *testing.T, path string, res int) string {
	t.Helper()
	if _, stderr, code := run(t, "train", "--baseline", "pixels", "--res", strconv.Itoa(res), "--out", path, "--quiet"); code != ExitOK {
		t.Fatalf("train --baseline: %d %s", code, stderr)
	}
	return path
}
