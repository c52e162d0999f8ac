package cli

import (
	"simsearch/report/render"

	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"simsearch/dataset"
)

func decodePNGFile(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func TestAugment(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "input.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, dataset.DefaultSpec().Image(12)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		args  []string
		rows  []string
		views int
		res   int
	}{
		{"default items", []string{"--aug", "A"}, []string{"item 0", "item 1", "item 2", "item 3"}, 10, 64},
		{"file and item at 32 px", []string{"--aug", "pad:24,rotate,crop:0.2-0.6", "--in", input, "--item", "17", "--res", "32", "--n", "3"}, []string{"input.png", "item 17"}, 3, 32},
		{"spec of the items", []string{"--aug", "C", "--item", "2", "--spec", "shapes:n=5,seed=9,res=16", "--n", "4"}, []string{"item 2"}, 4, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".png")
			args := append([]string{"augment", "--out", out, "--json"}, c.args...)
			stdout, stderr, code := run(t, args...)
			if code != ExitOK {
				t.Fatalf("exit code %d, stderr %q", code, stderr)
			}
			var res augmentResult
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("stdout %q: %v", stdout, err)
			}
			if res.Out != out || strings.Join(res.Rows, "|") != strings.Join(c.rows, "|") || res.Views != c.views || res.Res != c.res || res.Definition == "" {
				t.Fatalf("result %+v", res)
			}
			// Cells are at least render.GridMinCell wide: the grid is wider than
			// views+1 cells and taller than one cell per row.
			cell := c.res * max(1, (render.GridMinCell+c.res-1)/c.res)
			b := decodePNGFile(t, out).Bounds()
			if b.Dx() < (c.views+1)*cell || b.Dy() < len(c.rows)*cell {
				t.Fatalf("grid of %v for %d rows of %d cells of %d px", b.Size(), len(c.rows), c.views+1, cell)
			}
			// The same seed draws the same grid.
			first, _ := os.ReadFile(out)
			if _, stderr, code := run(t, args...); code != ExitOK {
				t.Fatalf("second run: %d %q", code, stderr)
			}
			if second, _ := os.ReadFile(out); !bytes.Equal(first, second) {
				t.Fatal("two runs with one seed drew different grids")
			}
		})
	}
}

func TestAugmentErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "grid.png")
	notImage := filepath.Join(dir, "notes.png")
	os.WriteFile(notImage, []byte("not an image"), 0o644)
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"no --out", []string{"--aug", "A"}, ExitUsage, "needs --out"},
		{"no --aug", []string{"--out", out}, ExitUsage, "needs --aug"},
		{"unknown augmentation", []string{"--aug", "blur", "--out", out}, ExitUsage, `unknown step "blur"`},
		{"bad range", []string{"--aug", "crop:0.9-0.1", "--out", out}, ExitUsage, "goes from high to low"},
		{"item outside the spec", []string{"--aug", "A", "--item", "64000", "--out", out}, ExitUsage, "--item 64000 is not an item"},
		{"bad spec", []string{"--aug", "A", "--spec", "shapes:n=-1", "--out", out}, ExitUsage, "--spec"},
		{"too many views", []string{"--aug", "A", "--n", "1000", "--out", out}, ExitUsage, "--n must be"},
		{"not an image", []string{"--aug", "A", "--in", notImage, "--out", out}, ExitBadInput, "not a readable image"},
		{"missing file", []string{"--aug", "A", "--in", filepath.Join(dir, "none.png"), "--out", out}, ExitFailure, "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"augment"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.message) {
				t.Fatalf("exit code %d, stderr %q; want %d and %q", code, stderr, c.code, c.message)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a failed command wrote the grid")
	}
}
