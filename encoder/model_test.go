package encoder

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"simsearch/dataset"
	"simsearch/encoder/internal/gemm"
)

// trainedTiny trains a tiny model of objective once per test binary.
var trainedTiny = struct {
	sync.Mutex
	m map[Objective]*Model
}{m: map[Objective]*Model{}}

func tinyModel(t testing.TB, objective Objective) *Model {
	t.Helper()
	trainedTiny.Lock()
	defer trainedTiny.Unlock()
	if m, ok := trainedTiny.m[objective]; ok {
		return m
	}
	var m *Model
	var err error
	switch objective {
	case Pixels, Random:
		m, err = NewBaseline(BaselineOptions{Objective: objective, Res: 8, Width: 4, Latent: 8, Seed: 2})
	default:
		opts := tinyOptions(t, objective)
		opts.Epochs = 1
		m, err = Train(context.Background(), opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	trainedTiny.m[objective] = m
	return m
}

var allKinds = append(append([]Objective(nil), Objectives...), Baselines...)

func TestCheckpointRoundTrip(t *testing.T) {
	images := tinyData(t).Images[:20]
	for _, kind := range allKinds {
		t.Run(string(kind), func(t *testing.T) {
			m := tinyModel(t, kind)
			path := filepath.Join(t.TempDir(), "model.safetensors")
			if err := m.Save(path); err != nil {
				t.Fatal(err)
			}
			loaded, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if loaded.ID() != m.ID() || len(m.ID()) != 64 {
				t.Errorf("ID %q after loading, %q before", loaded.ID(), m.ID())
			}
			if loaded.Info() != m.Info() {
				t.Errorf("Info after loading:\n%+v\nbefore:\n%+v", loaded.Info(), m.Info())
			}
			want, err := m.NewEmbedder(EmbedOptions{}).Embed(context.Background(), images)
			if err != nil {
				t.Fatal(err)
			}
			got, err := loaded.NewEmbedder(EmbedOptions{}).Embed(context.Background(), images)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				for j := range want[i] {
					if got[i][j] != want[i][j] {
						t.Fatalf("embedding %d[%d] = %v after loading, %v before", i, j, got[i][j], want[i][j])
					}
				}
			}
		})
	}
}

func TestInfoDescribesTraining(t *testing.T) {
	m := tinyModel(t, Contrastive)
	info := m.Info()
	opts := tinyOptions(t, Contrastive)
	if info.Objective != Contrastive || info.Augmentation != "A" || info.Tau != 0.07 || info.Res != 8 ||
		info.Width != 4 || info.Latent != 8 || info.Layers != 3 || info.Dim != 8 || info.Seed != opts.Seed ||
		info.Epochs != 1 || info.Batch != 16 || info.Steps != 6 || info.Data != tinyData(t).Source ||
		info.FinalLoss <= 0 || info.TrainSeconds <= 0 || info.FormatVersion != FormatVersion {
		t.Errorf("Info = %+v", info)
	}
	if _, err := json.Marshal(info); err != nil {
		t.Error(err)
	}
}

// checkpointWith returns a copy of b whose safetensors header is edit applied
// to the parsed header.
func checkpointWith(t *testing.T, b []byte, edit func(header map[string]any)) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	var header map[string]any
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	edit(header)
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	return append(out, b[8+n:]...)
}

func TestDecodeRejectsBadCheckpoints(t *testing.T) {
	good := tinyModel(t, Contrastive).Bytes()
	meta := func(key, value string) func(map[string]any) {
		return func(h map[string]any) {
			m := h["__metadata__"].(map[string]any)
			if value == "" {
				delete(m, key)
			} else {
				m[key] = value
			}
		}
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrBadCheckpoint},
		{"truncated header", good[:20], ErrBadCheckpoint},
		{"truncated data", good[:len(good)-4], ErrBadCheckpoint},
		{"a PNG file", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ErrBadCheckpoint},
		{"foreign safetensors", checkpointWith(t, good, meta("format", "")), ErrBadCheckpoint},
		{"other version", checkpointWith(t, good, meta("format_version", "2")), ErrBadCheckpoint},
		{"unknown objective", checkpointWith(t, good, meta("objective", "telepathy")), ErrBadCheckpoint},
		{"bad resolution", checkpointWith(t, good, meta("res", "12")), ErrBadCheckpoint},
		{"other width", checkpointWith(t, good, meta("width", "8")), ErrArchitecture},
		{"other latent", checkpointWith(t, good, func(h map[string]any) {
			meta("latent", "16")(h)
			meta("dim", "16")(h)
		}), ErrArchitecture},
		{"missing tensor", checkpointWith(t, good, func(h map[string]any) {
			info := h["encoder.linear.bias"]
			delete(h, "encoder.linear.bias")
			h["something.else"] = info
		}), ErrArchitecture},
		{"autoencoder without decoder", checkpointWith(t, good, meta("objective", "autoencoder")), ErrArchitecture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode returned %v, want an error wrapping %v", err, tc.want)
			}
		})
	}
	t.Run("file not found", func(t *testing.T) {
		if _, err := Load(filepath.Join(t.TempDir(), "nothing")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Load returned %v", err)
		}
	})
}

func TestDecodeRejectsNonFiniteWeights(t *testing.T) {
	m := tinyModel(t, Random)
	b := bytes.Clone(m.Bytes())
	// The data section ends with the last tensor's values: spoil one.
	binary.LittleEndian.PutUint32(b[len(b)-4:], math.Float32bits(float32(math.Inf(1))))
	if _, err := Decode(b); !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), "finite") {
		t.Fatalf("Decode returned %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(tinyModel(f, Random).Bytes())
	f.Add(tinyModel(f, Pixels).Bytes())
	f.Add([]byte{})
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{}}        "))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrBadCheckpoint) && !errors.Is(err, ErrArchitecture) {
				t.Fatalf("Decode error %v wraps neither ErrBadCheckpoint nor ErrArchitecture", err)
			}
			return
		}
		if m.Dim() <= 0 || m.Res() <= 0 {
			t.Fatalf("decoded a model of dimension %d at %d px", m.Dim(), m.Res())
		}
	})
}

func TestEmbedderAnyBatchAndConcurrently(t *testing.T) {
	// The Go products sum every element in the same order whatever the
	// batch size, so an image embeds to the same bits alone or in a batch;
	// OpenBLAS (the openblas build tag) chooses its kernels by shape, so
	// there the last bits may differ.
	tol := 0.0
	if gemm.Backend != "go" {
		tol = 1e-6
	}
	images := tinyData(t).Images
	for _, kind := range allKinds {
		t.Run(string(kind), func(t *testing.T) {
			m := tinyModel(t, kind)
			eachKernel(t, func(t *testing.T) { testEmbedderAnyBatch(t, m, images, tol) })
			t.Run("one image per block", func(t *testing.T) {
				defer func(old int) { chunkValues = old }(chunkValues)
				chunkValues = 1
				testEmbedderAnyBatch(t, m, images, tol)
			})
		})
	}
}

// testEmbedderAnyBatch checks that images embed to the same vectors (within
// tol) alone as in batches, from several goroutines at once.
func testEmbedderAnyBatch(t *testing.T, m *Model, images []*image.RGBA, tol float64) {
	ref, err := m.NewEmbedder(EmbedOptions{Batch: 1}).Embed(context.Background(), images[:37])
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range ref {
		if len(v) != m.Dim() {
			t.Fatalf("embedding %d has %d values, want %d", i, len(v), m.Dim())
		}
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Fatalf("embedding %d has squared norm %v", i, ss)
		}
	}
	e := m.NewEmbedder(EmbedOptions{Batch: 16})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, n := range []int{0, 1, 5, 16, 37} {
				got, err := e.Embed(context.Background(), images[:n])
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) != n {
					t.Errorf("goroutine %d: %d embeddings of %d images", g, len(got), n)
					return
				}
				for i := range got {
					for j := range got[i] {
						if math.Abs(float64(got[i][j]-ref[i][j])) > tol {
							t.Errorf("goroutine %d, %d images: embedding %d[%d] = %v, alone %v", g, n, i, j, got[i][j], ref[i][j])
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestEmbedRejectsOtherResolution(t *testing.T) {
	m := tinyModel(t, Random)
	imgs := []*image.RGBA{image.NewRGBA(image.Rect(0, 0, 8, 8)), image.NewRGBA(image.Rect(0, 0, 16, 16))}
	_, err := m.NewEmbedder(EmbedOptions{}).Embed(context.Background(), imgs)
	if err == nil || !strings.Contains(err.Error(), "image 1 is 16×16") {
		t.Fatalf("Embed returned %v", err)
	}
}

func TestPixelsBaseline(t *testing.T) {
	m, err := NewBaseline(BaselineOptions{Res: 32})
	if err != nil {
		t.Fatal(err)
	}
	if m.Dim() != 3*DefaultPool*DefaultPool || m.Params() != 0 {
		t.Fatalf("pixels baseline of dimension %d with %d parameters", m.Dim(), m.Params())
	}
	// A red square in the top-left cell only.
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for y := range 4 {
		for x := range 4 {
			img.Pix[y*img.Stride+4*x] = 255
		}
	}
	v, err := m.NewEmbedder(EmbedOptions{}).Embed(context.Background(), []*image.RGBA{img})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range v[0] {
		want := float32(0)
		if i == 0 {
			want = 1
		}
		if x != want {
			t.Fatalf("value %d = %v, want %v", i, x, want)
		}
	}
	if _, err := NewBaseline(BaselineOptions{Res: 32, Pool: 5}); err == nil {
		t.Error("pooling 32 px into 5 cells was accepted")
	}
	if _, err := NewBaseline(BaselineOptions{Objective: Contrastive}); err == nil {
		t.Error("a contrastive baseline was accepted")
	}
}

func TestRandomBaselineDependsOnSeed(t *testing.T) {
	a, _ := NewBaseline(BaselineOptions{Objective: Random, Res: 8, Seed: 1})
	b, _ := NewBaseline(BaselineOptions{Objective: Random, Res: 8, Seed: 1})
	c, _ := NewBaseline(BaselineOptions{Objective: Random, Res: 8, Seed: 2})
	if a.ID() != b.ID() {
		t.Error("two random baselines of seed 1 differ")
	}
	if a.ID() == c.ID() {
		t.Error("random baselines of seeds 1 and 2 are the same")
	}
}

func TestLoadTrainingSetFromFolder(t *testing.T) {
	dir := t.TempDir()
	spec, err := dataset.ParseSpec("shapes:n=10,seed=4,res=8,val=0.3")
	if err != nil {
		t.Fatal(err)
	}
	if err := dataset.WriteFolder(context.Background(), dir, spec, dataset.WriteOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	fromFolder, err := LoadTrainingSet(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	fromSpec, err := LoadTrainingSet(context.Background(), spec.String())
	if err != nil {
		t.Fatal(err)
	}
	if fromFolder.Len() != 7 || fromSpec.Len() != 7 || fromFolder.Res != 8 {
		t.Fatalf("%d images from the folder and %d from the spec, want 7 training images", fromFolder.Len(), fromSpec.Len())
	}
	for i := range fromSpec.Images {
		if !bytes.Equal(fromFolder.Images[i].Pix, fromSpec.Images[i].Pix) || fromFolder.Labels[i] != fromSpec.Labels[i] {
			t.Fatalf("image %d differs between the folder and the spec", i)
		}
	}
	if _, err := LoadTrainingSet(context.Background(), "shapes:n=-1"); !errors.Is(err, dataset.ErrBadSpec) {
		t.Errorf("a bad spec gave %v", err)
	}
	if _, err := LoadTrainingSet(context.Background(), filepath.Join(dir, "nothing")); err == nil {
		t.Error("a missing folder was accepted")
	}
}
