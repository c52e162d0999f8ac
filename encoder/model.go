package encoder

import (
	"context"
	"fmt"
	"image"
	"os"
	"sync"

	"simsearch/internal/atomicfile"
)

// Model is an image encoder: a trained network, a randomly initialized one
// or the raw-pixels baseline, with its checkpoint. A Model is immutable and
// safe for concurrent use; embed images with an Embedder.
type Model struct {
	info  Info
	w     *weights // nil for the pixels baseline
	bytes []byte
	id    string

	mu     sync.Mutex
	graphs map[int][]*graph // idle embedding graphs by batch size
}

// newModel makes the model of info and w and encodes its checkpoint.
func newModel(info Info, w *weights) (*Model, error) {
	info.FormatVersion = FormatVersion
	if err := info.check(); err != nil {
		return nil, fmt.Errorf("encoder: model: %w", err)
	}
	b, err := encodeCheckpoint(info, w)
	if err != nil {
		return nil, err
	}
	return &Model{info: info, w: w, bytes: b, id: modelIdentity(info, w)}, nil
}

// Decode reads a model from checkpoint bytes, as Bytes returns them. The
// model keeps b; do not modify it afterwards. Errors wrap ErrBadCheckpoint
// for bytes that are not a checkpoint of this format version (or are
// truncated), and ErrArchitecture for weights that do not fit the
// architecture the checkpoint describes.
func Decode(b []byte) (*Model, error) {
	info, w, err := decodeCheckpoint(b)
	if err != nil {
		return nil, err
	}
	return &Model{info: info, w: w, bytes: b, id: modelIdentity(info, w)}, nil
}

// Load reads the checkpoint file at path. Errors are those of Decode,
// prefixed with the path, or the file system's.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

// Save writes the model's checkpoint to path, replacing it atomically and
// durably: a reader, or the machine after a power loss, finds the old file
// or the new one, never a part of it.
func (m *Model) Save(path string) error {
	return atomicfile.WriteFile(path, m.bytes, 0o644)
}

// Bytes returns the model's checkpoint, a safetensors file. The caller must
// not modify it.
func (m *Model) Bytes() []byte { return m.bytes }

// Checkpoint returns Bytes.
func (m *Model) Checkpoint() []byte { return m.bytes }

// ID returns the model's identity (see Encoder.ID): the hex SHA-256 of its
// architecture, input preprocessing and encoder weights.
func (m *Model) ID() string { return m.id }

// Embed embeds images with an Embedder of the default batch size.
func (m *Model) Embed(ctx context.Context, images []*image.RGBA) ([][]float32, error) {
	return m.NewEmbedder(EmbedOptions{}).Embed(ctx, images)
}

// Close does nothing: a Model holds no resource.
func (m *Model) Close() error { return nil }

// Info describes the model.
func (m *Model) Info() Info { return m.info }

// Dim returns the size of the model's embeddings.
func (m *Model) Dim() int { return m.info.Dim }

// Res returns the width and height of the images the model takes.
func (m *Model) Res() int { return m.info.Res }

// Params returns the number of parameters of the model's networks
// (encoder and, if trained with them, decoder or head).
func (m *Model) Params() int {
	if m.w == nil {
		return 0
	}
	return m.w.count()
}

// String describes the model in a few words, such as
// "contrastive (augmentation A), res 32, width 32, latent 128".
func (m *Model) String() string {
	i := m.info
	var what string
	switch i.Objective {
	case Contrastive:
		what = fmt.Sprintf("contrastive (augmentation %s, τ %g)", i.Augmentation, i.Tau)
	case Supervised, DualEncoder:
		what = fmt.Sprintf("%s (%s)", i.Objective, i.Label)
	case Pixels:
		return fmt.Sprintf("pixels baseline, res %d pooled to %d×%d", i.Res, i.Pool, i.Pool)
	default:
		what = string(i.Objective)
	}
	return fmt.Sprintf("%s, %v", what, i.Arch())
}
