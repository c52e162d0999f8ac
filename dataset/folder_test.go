package dataset

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"simsearch/internal/imagetest"
)

// writeTestFolder writes spec into a new temporary folder.
func writeTestFolder(t *testing.T, spec Spec, opts WriteOptions) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteFolder(context.Background(), dir, spec, opts); err != nil {
		t.Fatalf("WriteFolder(%s): %v", spec, err)
	}
	return dir
}

// readAll returns every file of dir by name.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

func TestWriteFolderIsDeterministic(t *testing.T) {
	spec := Spec{N: 60, Seed: 4, Res: 32, ValFrac: 0.25}
	t.Logf("spec %s", spec)
	a := readAll(t, writeTestFolder(t, spec, WriteOptions{Workers: 1}))
	b := readAll(t, writeTestFolder(t, spec, WriteOptions{Workers: 3}))
	if len(a) != spec.N+2 {
		names := make([]string, 0, len(a))
		for name := range a {
			names = append(names, name)
		}
		sort.Strings(names)
		t.Fatalf("%d files, want %d images, %s and %s: %v", len(a), spec.N, FactorsFile, MetaFile, names)
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Fatalf("%s differs between a run on 1 worker and one on 3", name)
		}
	}

	other := spec
	other.Seed = 5
	c := readAll(t, writeTestFolder(t, other, WriteOptions{}))
	if bytes.Equal(a[FactorsFile], c[FactorsFile]) {
		t.Fatal("seeds 4 and 5 give the same factors.csv")
	}
	differ := 0
	for name, data := range a {
		if strings.HasSuffix(name, ".png") && !bytes.Equal(data, c[name]) {
			differ++
		}
	}
	if differ < spec.N*9/10 {
		t.Fatalf("only %d of %d images differ between seeds 4 and 5", differ, spec.N)
	}
}

func TestFolderRoundTrip(t *testing.T) {
	spec := Spec{N: 50, Seed: 8, Res: 64, ValFrac: 0.3}
	dir := writeTestFolder(t, spec, WriteOptions{})
	folder, err := ReadFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if folder.Dir != dir || folder.Res != spec.Res || folder.Spec != spec || len(folder.Records) != spec.N {
		t.Fatalf("folder %s res %d spec %s with %d records, want %s", folder.Dir, folder.Res, folder.Spec, len(folder.Records), spec)
	}
	trainCount := 0
	for i, rec := range folder.Records {
		// Exact: floats are written with the digits that read back to them.
		if want := spec.Record(i); rec != want {
			t.Fatalf("record %d read back as %+v, want %+v", i, rec, want)
		}
		if rec.Split == Train {
			trainCount++
		}
		// Item i made alone equals item i of the full run.
		img, err := folder.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img.Pix, spec.Image(i).Pix) {
			t.Fatalf("image %d in the folder differs from Spec.Image(%d)", i, i)
		}
	}
	if wantTrain, _ := spec.Counts(); trainCount != wantTrain {
		t.Fatalf("%d training records, want %d", trainCount, wantTrain)
	}
}

func TestWriteFolderRefusesANonEmptyFolder(t *testing.T) {
	spec := Spec{N: 20, Seed: 1, Res: 16}
	dir := writeTestFolder(t, spec, WriteOptions{})
	err := WriteFolder(context.Background(), dir, spec, WriteOptions{})
	if !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second write: error %v, want ErrNotEmpty", err)
	}

	// Overwrite with a smaller dataset: the old images go, other files stay.
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	smaller := Spec{N: 5, Seed: 2, Res: 16}
	if err := WriteFolder(context.Background(), dir, smaller, WriteOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	files := readAll(t, dir)
	if len(files) != smaller.N+3 || files["notes.txt"] == nil {
		t.Fatalf("after overwriting: %d files, want %d images, the dataset files and notes.txt", len(files), smaller.N)
	}
	folder, err := ReadFolder(dir)
	if err != nil || folder.Spec != smaller {
		t.Fatalf("after overwriting: %v, %v", folder, err)
	}
}

func TestWriteFolderStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	dir := t.TempDir()
	err := WriteFolder(ctx, dir, Spec{N: 100000, Seed: 1, Res: 16}, WriteOptions{Progress: func(done, total int) {
		calls++
		cancel()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if calls == 0 {
		t.Fatal("Progress was never called")
	}
	if _, err := ReadFolder(dir); !errors.Is(err, ErrBadFolder) {
		t.Fatalf("reading an interrupted folder: %v, want ErrBadFolder", err)
	}
}

func TestReadFolderErrors(t *testing.T) {
	spec := Spec{N: 3, Seed: 1, Res: 16}
	good := readAll(t, writeTestFolder(t, spec, WriteOptions{}))
	lines := strings.Split(string(good[FactorsFile]), "\n")
	// replaceLine returns factors.csv with line n (from 1) replaced.
	replaceLine := func(n int, text string) string {
		out := append([]string(nil), lines...)
		out[n-1] = text
		return strings.Join(out, "\n")
	}
	// replaceField returns factors.csv with field f of line n replaced.
	replaceField := func(n, f int, value string) string {
		fields := strings.Split(lines[n-1], ",")
		fields[f] = value
		return replaceLine(n, strings.Join(fields, ","))
	}
	for _, c := range []struct {
		name, factors, meta, message string
	}{
		{"bad header", replaceLine(1, strings.Replace(lines[0], "hue", "colour", 1)), "", "factors.csv line 1: the header"},
		{"missing field", replaceLine(3, lines[2][:strings.LastIndex(lines[2], ",")]), "", "factors.csv line 3: wrong number of fields"},
		{"bad float", replaceField(2, 4, "red"), "", `factors.csv line 2: hue "red" is not valid`},
		{"infinite float", replaceField(4, 7, "Inf"), "", `factors.csv line 4: radius "Inf" is not valid`},
		{"bad shape", replaceField(2, 3, "hexagon"), "", `line 2: shape "hexagon" is not valid`},
		{"bad split", replaceField(3, 2, "test"), "", `line 3: split "test" is not valid`},
		{"label mismatch", replaceField(2, 12, "9"), "", "line 2: the labels"},
		{"id outside the spec", replaceField(2, 0, "3"), "", "line 2: id 3 is outside the spec's 0 to 2"},
		{"repeated id", replaceField(3, 0, "0"), "", "line 3: id 0 appears twice"},
		{"path in file name", replaceField(2, 1, "../x.png"), "", `line 2: file "../x.png" is not the name`},
		{"unbalanced quote", replaceLine(2, `"0,`+lines[1]), "", "factors.csv line 2"},
		{"newer version", "", strings.Replace(string(good[MetaFile]), `"version": 1`, `"version": 2`, 1), "format version 2; this build reads version 1"},
		{"foreign meta", "", `{"format": "other"}`, "is not a simsearch dataset description"},
		{"spec disagrees", "", strings.Replace(string(good[MetaFile]), `"res": 16`, `"res": 32`, 1), "does not match res 32"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range good {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.factors != "" {
				os.WriteFile(filepath.Join(dir, FactorsFile), []byte(c.factors), 0o644)
			}
			if c.meta != "" {
				os.WriteFile(filepath.Join(dir, MetaFile), []byte(c.meta), 0o644)
			}
			_, err := ReadFolder(dir)
			if !errors.Is(err, ErrBadFolder) {
				t.Fatalf("error %v, want ErrBadFolder", err)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Fatalf("error %q does not say %q", err, c.message)
			}
		})
	}

	t.Run("not a dataset folder", func(t *testing.T) {
		_, err := ReadFolder(t.TempDir())
		if !errors.Is(err, ErrBadFolder) || !strings.Contains(err.Error(), "has no dataset.json") {
			t.Fatalf("error %v", err)
		}
	})

	t.Run("image of the wrong size", func(t *testing.T) {
		dir := t.TempDir()
		for name, data := range good {
			os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		os.WriteFile(filepath.Join(dir, spec.ImageFile(1)), imagetest.PNG(t, DefaultSpec().Image(0)), 0o644)
		folder, err := ReadFolder(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := folder.Image(1); !errors.Is(err, ErrBadFolder) {
			t.Fatalf("error %v, want ErrBadFolder", err)
		}
	})
}

func TestImageFile(t *testing.T) {
	for _, c := range []struct {
		n, i int
		want string
	}{
		{10, 3, "000003.png"},
		{64000, 63999, "063999.png"},
		{2_000_000, 17, "0000017.png"},
	} {
		if got := (Spec{N: c.n}).ImageFile(c.i); got != c.want || !isImageFileName(got) {
			t.Errorf("ImageFile(%d) of %d items = %q, want %q", c.i, c.n, got, c.want)
		}
	}
	for _, name := range []string{"factors.csv", ".png", "a1.png", "12.PNG", "notes.txt"} {
		if isImageFileName(name) {
			t.Errorf("%q taken for an image file name", name)
		}
	}
}

func TestReadFolderRefusesAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "losses.csv")
	if err := os.WriteFile(path, []byte("step,loss\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFolder(path)
	if !errors.Is(err, ErrBadFolder) || !strings.Contains(err.Error(), "is a file, not a folder written by simsearch generate") {
		t.Fatalf("error %v, want ErrBadFolder saying it is a file", err)
	}
}
