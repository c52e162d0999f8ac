package encoder

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
)

// torchFile writes the weights of m as a state_dict file would hold them,
// names renamed by rename (a name it maps to "" is left out) and values
// in float64 when wide.
func torchFile(t *testing.T, m *Model, rename func(string) string, wide bool, extra ...string) []byte {
	t.Helper()
	views := map[string]safetensors.TensorView{}
	add := func(name string, shape []uint64, values []float32) {
		var data []byte
		dt := safetensors.F32
		for _, v := range values {
			if wide {
				data = binary.LittleEndian.AppendUint64(data, math.Float64bits(float64(v)))
			} else {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
		}
		if wide {
			dt = safetensors.F64
		}
		view, err := safetensors.NewTensorView(dt, shape, data)
		if err != nil {
			t.Fatal(err)
		}
		views[name] = view
	}
	for _, p := range m.w.params {
		if name := rename(p.name); name != "" {
			add(name, p.torchShape(), p.toTorch())
		}
	}
	for _, name := range extra {
		add(name, []uint64{2}, []float32{1, 2})
	}
	b, err := safetensors.Serialize(views, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportTorch(t *testing.T) {
	random, err := NewBaseline(BaselineOptions{Objective: Random, Res: 16, Width: 4, Latent: 8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	same := func(s string) string { return s }
	opts := ImportOptions{Objective: Contrastive, Res: 16, Width: 4, Latent: 8, Augmentation: "A", Tau: 0.07}
	for _, c := range []struct {
		name string
		file []byte
	}{
		{"encoder names", torchFile(t, random, same, false)},
		{"the Encoder module's own state_dict", torchFile(t, random, func(s string) string { return strings.TrimPrefix(s, "encoder.") }, false)},
		{"DataParallel, float64", torchFile(t, random, func(s string) string { return "module." + s }, true)},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := ImportTorch(c.file, opts)
			if err != nil {
				t.Fatal(err)
			}
			// The identity is the architecture and weights: the imported
			// network is the one written.
			if m.ID() != random.ID() || m.Info().Objective != Contrastive || m.Info().Augmentation != "A" {
				t.Errorf("imported %v (id %.12s), wrote id %.12s", m, m.ID(), random.ID())
			}
			if _, err := Decode(m.Bytes()); err != nil {
				t.Errorf("the imported checkpoint does not decode: %v", err)
			}
		})
	}

	for _, c := range []struct {
		name string
		file []byte
		opts ImportOptions
		want string
	}{
		{"another width", torchFile(t, random, same, false), ImportOptions{Objective: Contrastive, Res: 16, Width: 8, Latent: 8}, `tensor "encoder.convs.0.weight" has shape [4 3 4 4], want [8 3 4 4]`},
		{"a missing tensor", torchFile(t, random, func(s string) string {
			if s == "encoder.linear.bias" {
				return ""
			}
			return s
		}, false), opts, `no tensor "encoder.linear.bias"`},
		{"an extra tensor", torchFile(t, random, same, false, "encoder.bn.weight"), opts, `tensor "encoder.bn.weight" is not part of`},
		{"no decoder for an autoencoder", torchFile(t, random, same, false), ImportOptions{Objective: Autoencoder, Res: 16, Width: 4, Latent: 8}, `no tensor "decoder.linear.weight"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ImportTorch(c.file, c.opts)
			if !errors.Is(err, ErrArchitecture) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrArchitecture saying %s", err, c.want)
			}
		})
	}
	if _, err := ImportTorch([]byte("not a file"), opts); !errors.Is(err, ErrBadCheckpoint) {
		t.Errorf("not safetensors: %v", err)
	}
	centered, err := ImportTorch(torchFile(t, random, same, false), ImportOptions{Objective: Contrastive, Res: 16, Width: 4, Latent: 8, Input: "centered"})
	if err != nil {
		t.Fatal(err)
	}
	// The same weights fed other values are another encoder.
	if centered.Info().Input != Centered || centered.ID() == random.ID() {
		t.Errorf("centered import: input %q, id %.12s, the unit one's %.12s", centered.Info().Input, centered.ID(), random.ID())
	}
	if loaded, err := Decode(centered.Bytes()); err != nil || loaded.Info().Input != Centered || loaded.ID() != centered.ID() {
		t.Errorf("the centered checkpoint decodes to %v, %v", loaded, err)
	}
	if _, err := ImportTorch(torchFile(t, random, same, false), ImportOptions{Objective: Contrastive, Res: 16, Width: 4, Latent: 8, Input: "imagenet"}); !errors.Is(err, ErrOptions) {
		t.Errorf("input imagenet: %v, want ErrOptions", err)
	}
}

// FuzzImportTorch checks that any bytes give a model or an error, never a
// panic.
func FuzzImportTorch(f *testing.F) {
	random, err := NewBaseline(BaselineOptions{Objective: Random, Res: 4, Width: 2, Latent: 4, Seed: 3})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(random.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		ImportTorch(b, ImportOptions{Objective: Random, Res: 4, Width: 2, Latent: 4})
	})
}
