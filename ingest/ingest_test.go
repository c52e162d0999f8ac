package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"simsearch/internal/imagetest"

	"simsearch/dataset"
	"simsearch/index"
	"simsearch/spaces"
)

func TestRunSpecThenFolderGivesTheSameItems(t *testing.T) {
	db := openDB(t)
	spec := dataset.Spec{N: 40, Seed: 3, Res: 16, ValFrac: 0.25}
	dir := writeFolder(t, spec)
	model := randomModel(t, 16, 1)

	var progress []Progress
	sum := run(t, db, Options{Source: spec.String(), Space: "random", Encoder: model, BatchSize: 7,
		Progress: func(p Progress) { progress = append(progress, p) }})
	want := Summary{Source: spec.String(), Kind: kindSpec, Space: "random", Encoder: model.ID(), SpaceCreated: true,
		Images: 40, AddedItems: 40, AddedVectors: 40, Items: 40, Vectors: 40}
	if got := clearTimes(sum); got != want {
		t.Errorf("first run:\n got %+v\nwant %+v", got, want)
	}
	if len(progress) != 7 || progress[0] != (Progress{Total: 40}) || progress[1].Done != 7 || progress[6] != (Progress{Done: 40, Total: 40, AddedVectors: 40}) {
		t.Errorf("progress %+v", progress)
	}
	space, err := db.Space("random")
	if err != nil {
		t.Fatal(err)
	}
	if info := space.Info(); !info.Stored.UpToDate || info.Encoder.Resolution != 16 || info.Encoder.Description != model.String() {
		t.Errorf("space after ingestion: %+v", info)
	}
	item, err := db.Item(17)
	if err != nil {
		t.Fatal(err)
	}
	if item.Source != spaces.SpecSource(spec, 17) || item.Split != "train" || item.Labels["color"] != spec.Labels(17).Color {
		t.Errorf("item 17: %+v", item)
	}
	if item, _ := db.Item(35); item.Split != "val" {
		t.Errorf("item 35 is in split %q, want val", item.Split)
	}

	// The folder's PNG files hold the same pixels: nothing to add.
	sum = run(t, db, Options{Source: dir, Space: "random", Encoder: model})
	want = Summary{Source: dir, Kind: kindDataset, Space: "random", Encoder: model.ID(), Images: 40, Present: 40, Items: 40, Vectors: 40}
	if got := clearTimes(sum); got != want {
		t.Errorf("folder after spec:\n got %+v\nwant %+v", got, want)
	}
	if sum.EmbedSeconds != 0 {
		t.Errorf("embedded for %v s with nothing to embed", sum.EmbedSeconds)
	}

	// A second space over the stored items, from their sources.
	pixels := pixelsModel(t, 8)
	sum = run(t, db, Options{Space: "pixels", Encoder: pixels})
	want = Summary{Source: db.Path(), Kind: kindStored, Space: "pixels", Encoder: pixels.ID(), SpaceCreated: true, Images: 40, AddedVectors: 40, Items: 40, Vectors: 40}
	if got := clearTimes(sum); got != want {
		t.Errorf("stored sources:\n got %+v\nwant %+v", got, want)
	}
	// The folder into the pixel space, without naming its encoder.
	sum = run(t, db, Options{Source: dir, Space: "pixels"})
	if sum.Present != 40 || sum.Encoder != pixels.ID() {
		t.Errorf("folder into an existing space with its stored encoder: %+v", sum)
	}
}

// clearTimes zeroes the fields of s that depend on the clock.
func clearTimes(s Summary) Summary {
	s.Seconds, s.ImagesPerSecond, s.EmbedSeconds, s.GraphSeconds = 0, 0, 0, 0
	return s
}

func TestRunStoresWhatTheEncoderSees(t *testing.T) {
	// A 64-pixel dataset into a 16-pixel encoder: the vectors are those of
	// the resized images, the thumbnails those of the originals.
	db := openDB(t)
	spec := dataset.Spec{N: 5, Seed: 9, Res: 64, ValFrac: 0}
	model := randomModel(t, 16, 2)
	run(t, db, Options{Source: spec.String(), Space: "s", Encoder: model})
	space, err := db.Space("s")
	if err != nil {
		t.Fatal(err)
	}
	images := make([]*image.RGBA, spec.N)
	for i := range images {
		images[i] = dataset.Resize(spec.Image(i), 16)
	}
	want, err := model.NewEmbedder(encoderOptions()).Embed(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	for i := range images {
		got, err := space.Vector(index.ItemID(i))
		if err != nil {
			t.Fatal(err)
		}
		for j := range got {
			if d := got[j] - want[i][j]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("vector %d[%d] = %v, want %v", i, j, got[j], want[i][j])
			}
		}
		thumb, err := db.Thumbnail(index.ItemID(i))
		if err != nil {
			t.Fatal(err)
		}
		if spaces.ContentHash(imagetest.Decode(t, thumb)) != spaces.ContentHash(spec.Image(i)) {
			t.Errorf("thumbnail %d is not the 64-pixel image", i)
		}
	}
}

func TestRunPlainFolder(t *testing.T) {
	dir := t.TempDir()
	spec := dataset.Spec{N: 6, Seed: 5, Res: 20, ValFrac: 0}
	writeFile(t, filepath.Join(dir, "b", "deep", "one.PNG"), imagetest.PNG(t, spec.Image(0)))
	writeFile(t, filepath.Join(dir, "a.png"), imagetest.PNG(t, spec.Image(1)))
	writeFile(t, filepath.Join(dir, "copy.png"), imagetest.PNG(t, spec.Image(1))) // the same picture again
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, wideImage(), nil); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "photo.jpg"), photo.Bytes())
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("not an image"))
	writeFile(t, filepath.Join(dir, ".hidden", "x.png"), imagetest.PNG(t, spec.Image(2)))
	writeFile(t, filepath.Join(dir, ".y.png"), imagetest.PNG(t, spec.Image(3)))

	db := openDB(t)
	sum := run(t, db, Options{Source: dir, Space: "p", Encoder: pixelsModel(t, 8), Split: "val"})
	if sum.Kind != kindFolder || sum.Images != 4 || sum.AddedItems != 3 || sum.AddedVectors != 3 || sum.Present != 1 || sum.Skipped != 0 {
		t.Errorf("summary %+v", sum)
	}
	var sources []string
	err := db.ForEachItem(context.Background(), func(it index.Item) error {
		sources = append(sources, it.Source)
		if it.Split != "val" || it.Factors != nil {
			t.Errorf("item %+v", it)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.png"), filepath.Join(dir, "b", "deep", "one.PNG"), filepath.Join(dir, "photo.jpg")}
	if !slices.Equal(sources, want) {
		t.Errorf("sources %q, want %q", sources, want)
	}

	// One file, relative to the working directory, keeps the path as written.
	t.Chdir(dir)
	sum = run(t, db, Options{Source: "a.png", Space: "p"})
	if sum.Kind != kindFile || sum.Images != 1 || sum.Present != 1 {
		t.Errorf("one file: %+v", sum)
	}
}

func wideImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 90, 40))
	for y := range 40 {
		for x := range 90 {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 5), 128, 255})
		}
	}
	return img
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bombPNG returns a valid PNG header declaring side×side pixels, followed
// by a short IDAT: a decompression bomb must be refused from the header.
func bombPNG(t testing.TB, side uint32) []byte {
	t.Helper()
	small := imagetest.PNG(t, image.NewRGBA(image.Rect(0, 0, 1, 1)))
	// The IHDR chunk: length (4), "IHDR" (4), width, height, ..., CRC.
	b := bytes.Clone(small)
	binary.BigEndian.PutUint32(b[16:], side)
	binary.BigEndian.PutUint32(b[20:], side)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestRunSkipsBadImages(t *testing.T) {
	dir := t.TempDir()
	spec := dataset.Spec{N: 3, Seed: 2, Res: 16, ValFrac: 0}
	good := make([]string, spec.N)
	for i := range good {
		good[i] = filepath.Join(dir, fmt.Sprintf("good%d.png", i))
		writeFile(t, good[i], imagetest.PNG(t, spec.Image(i)))
	}
	valid := imagetest.PNG(t, spec.Image(0))
	bad := map[string][]byte{
		filepath.Join(dir, "bad1-truncated.png"): valid[:len(valid)/2],
		filepath.Join(dir, "bad2-text.png"):      []byte("these are not the pixels you are looking for\n"),
		filepath.Join(dir, "bad3-bomb.png"):      bombPNG(t, 30000),
	}
	for path, b := range bad {
		writeFile(t, path, b)
	}
	if _, err := dataset.DecodeImage(bytes.NewReader(bombPNG(t, 30000)), 0); !errors.Is(err, dataset.ErrImageTooLarge) {
		t.Fatalf("the bomb is not refused from its header: %v", err)
	}

	t.Run("skip", func(t *testing.T) {
		db := openDB(t)
		skips := map[string]string{}
		sum := run(t, db, Options{Source: dir, Space: "p", Encoder: pixelsModel(t, 8),
			OnSkip: func(source, reason string) { skips[source] = reason }})
		if sum.Images != 6 || sum.AddedItems != 3 || sum.AddedVectors != 3 || sum.Skipped != 3 {
			t.Errorf("summary %+v", sum)
		}
		for path, want := range map[string]string{
			filepath.Join(dir, "bad1-truncated.png"): "not a readable image",
			filepath.Join(dir, "bad2-text.png"):      "not a PNG, JPEG or GIF",
			filepath.Join(dir, "bad3-bomb.png"):      "30000×30000 pixels",
		} {
			if !strings.Contains(skips[path], want) {
				t.Errorf("reason for %s: %q, want it to say %q", filepath.Base(path), skips[path], want)
			}
		}
		if len(skips) != 3 {
			t.Errorf("skips %v", skips)
		}
	})

	t.Run("strict", func(t *testing.T) {
		db := openDB(t)
		var skips []string
		// good0, good1, good2 come after the bad files: only what came
		// before the first bad one is stored.
		sum, err := Run(context.Background(), db, Options{Source: dir, Space: "p", Encoder: pixelsModel(t, 8), Strict: true, BatchSize: 1,
			OnSkip: func(source, _ string) { skips = append(skips, source) }})
		if !errors.Is(err, dataset.ErrBadImage) || !strings.Contains(err.Error(), "bad1-truncated.png") {
			t.Fatalf("strict run: %v", err)
		}
		if sum.Images != 0 || sum.Items != 0 || len(skips) != 0 {
			t.Errorf("strict run: %+v, skips %v", sum, skips)
		}
	})

	t.Run("strict keeps what came before", func(t *testing.T) {
		db := openDB(t)
		model := pixelsModel(t, 8)
		// Rename so that a good image comes first.
		first := t.TempDir()
		writeFile(t, filepath.Join(first, "a.png"), imagetest.PNG(t, spec.Image(0)))
		writeFile(t, filepath.Join(first, "b.png"), bombPNG(t, 30000))
		writeFile(t, filepath.Join(first, "c.png"), imagetest.PNG(t, spec.Image(1)))
		sum, err := Run(context.Background(), db, Options{Source: first, Space: "p", Encoder: model, Strict: true, BatchSize: 1})
		if !errors.Is(err, dataset.ErrImageTooLarge) {
			t.Fatalf("strict run: %v", err)
		}
		if sum.Items != 1 || sum.Vectors != 1 || sum.AddedVectors != 1 {
			t.Errorf("strict run: %+v", sum)
		}
	})
}

func TestRunStoredSourceChanged(t *testing.T) {
	dir := t.TempDir()
	spec := dataset.Spec{N: 3, Seed: 2, Res: 16, ValFrac: 0}
	for i := range spec.N {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), imagetest.PNG(t, spec.Image(i)))
	}
	db := openDB(t)
	run(t, db, Options{Source: dir, Space: "a", Encoder: pixelsModel(t, 8)})
	writeFile(t, filepath.Join(dir, "1.png"), imagetest.PNG(t, spec.Image(0)))
	if err := os.Remove(filepath.Join(dir, "2.png")); err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	sum := run(t, db, Options{Space: "b", Encoder: randomModel(t, 16, 1), OnSkip: func(s, r string) { reasons[filepath.Base(s)] = r }})
	if sum.AddedVectors != 1 || sum.Skipped != 2 || sum.AddedItems != 0 {
		t.Errorf("summary %+v", sum)
	}
	if !strings.Contains(reasons["1.png"], ErrSourceChanged.Error()) || !strings.Contains(reasons["2.png"], "no such file") {
		t.Errorf("reasons %q", reasons)
	}
}

func TestRunErrors(t *testing.T) {
	db := openDB(t)
	spec := "shapes:n=4,res=16"
	run(t, db, Options{Source: spec, Space: "a", Encoder: pixelsModel(t, 16)})
	for _, c := range []struct {
		name string
		opts Options
		want error
	}{
		{"other encoder", Options{Source: spec, Space: "a", Encoder: randomModel(t, 16, 1)}, index.ErrEncoderMismatch},
		{"no encoder for a new space", Options{Source: spec, Space: "b"}, ErrOptions},
		{"no space", Options{Source: spec, Encoder: pixelsModel(t, 16)}, ErrOptions},
		{"negative batch", Options{Source: spec, Space: "a", BatchSize: -1}, ErrOptions},
		{"missing folder", Options{Source: filepath.Join(t.TempDir(), "nothing"), Space: "a"}, ErrBadSource},
		{"bad spec", Options{Source: "shapes:n=-3", Space: "a"}, ErrBadSource},
		{"bad spec is also a dataset error", Options{Source: "shapes:n=-3", Space: "a"}, dataset.ErrBadSpec},
		{"empty folder", Options{Source: t.TempDir(), Space: "a"}, ErrBadSource},
		{"missing folder into a new space", Options{Source: filepath.Join(t.TempDir(), "nothing"), Space: "new", Encoder: pixelsModel(t, 16)}, ErrBadSource},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(context.Background(), db, c.opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
	if db.Len() != 4 {
		t.Errorf("%d items after failed runs, want 4", db.Len())
	}
	if names, err := db.SpaceNames(); err != nil || !slices.Equal(names, []string{"a"}) {
		t.Errorf("spaces after failed runs: %v, %v", names, err)
	}
}

func TestRunCancelled(t *testing.T) {
	db := openDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	sum, err := Run(ctx, db, Options{Source: "shapes:n=400,res=16", Space: "p", Encoder: pixelsModel(t, 16), BatchSize: 10,
		Progress: func(p Progress) {
			if p.Done > 0 {
				once.Do(cancel)
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	if sum.Images < 10 || sum.Images >= 400 || sum.Vectors != sum.AddedVectors || sum.Items < sum.Vectors {
		t.Errorf("summary of a cancelled run %+v", sum)
	}
	sum = run(t, db, Options{Source: "shapes:n=400,res=16", Space: "p"})
	if sum.Items != 400 || sum.Vectors != 400 {
		t.Errorf("summary after resuming %+v", sum)
	}
}

func TestAddBatch(t *testing.T) {
	db := openDB(t)
	model := randomModel(t, 16, 3)
	space, err := db.CreateSpace(context.Background(), index.SpaceConfig{Name: "s", Dim: model.Dim(),
		Encoder: index.Encoder{ID: model.ID(), Resolution: 16, Checkpoint: model.Bytes()}})
	if err != nil {
		t.Fatal(err)
	}
	emb := model.NewEmbedder(encoderOptions())
	spec := dataset.Spec{N: 6, Seed: 4, Res: 16, ValFrac: 0}
	items := make([]index.Item, spec.N)
	images := make([]*image.RGBA, spec.N)
	for i := range items {
		f := spec.Factors(i)
		images[i] = spec.Image(i)
		items[i] = spaces.NewItem(images[i], spaces.Origin{Source: spaces.SpecSource(spec, i), Split: "train", Factors: &f})
	}
	// Items 0 and 1 are stored already, 0 with a vector; 5 repeats 4.
	if _, _, err := db.AddItems(context.Background(), items[:2]); err != nil {
		t.Fatal(err)
	}
	first, err := emb.Embed(context.Background(), images[:1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := space.AddVectors(context.Background(), []index.ItemID{0}, first[0]); err != nil {
		t.Fatal(err)
	}
	items[5], images[5] = items[4], images[4]

	res, err := AddBatch(context.Background(), db, space, emb, items, images)
	if err != nil {
		t.Fatal(err)
	}
	want := BatchResult{IDs: []index.ItemID{0, 1, 2, 3, 4, 4}, AddedItems: 3, AddedVectors: 4}
	if !slices.Equal(res.IDs, want.IDs) || res.AddedItems != want.AddedItems || res.AddedVectors != want.AddedVectors {
		t.Errorf("AddBatch: %+v, want %+v", res, want)
	}
	res, err = AddBatch(context.Background(), db, space, emb, items, images)
	if err != nil || res.AddedItems != 0 || res.AddedVectors != 0 || !slices.Equal(res.IDs, want.IDs) {
		t.Errorf("AddBatch again: %+v, %v", res, err)
	}
	if space.Len() != 5 || db.Len() != 5 {
		t.Errorf("%d vectors, %d items, want 5 and 5", space.Len(), db.Len())
	}
}
