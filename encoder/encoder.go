package encoder

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"
)

// Encoder turns images into vectors. It is what ingest, query and report
// embed with: a Model (trained, or a baseline), and behind the same
// interface encoders whose weights are not simsearch's own.
//
// Concurrency: an Encoder is safe for concurrent use.
type Encoder interface {
	// Res is the side of the square RGB images Embed takes.
	Res() int
	// Dim is the length of the vectors Embed returns.
	Dim() int
	// ID is the encoder's identity: what decides its vectors (for a
	// network: architecture, preprocessing and weights), not when or how
	// it was made. Two encoders with the same ID embed alike.
	ID() string
	// String describes the encoder in a few words.
	String() string
	// Info describes the encoder for reports: objective, augmentation,
	// architecture, training.
	Info() Info
	// Checkpoint is the self-describing bytes a space stores so that it can
	// embed new queries by itself (see Decode).
	Checkpoint() []byte
	// Embed returns one vector of Dim values per image, in order. Every
	// image must be Res×Res pixels.
	Embed(ctx context.Context, images []*image.RGBA) ([][]float32, error)
	// Close releases what the encoder holds (a process, a file); a Model
	// holds nothing.
	Close() error
}

var (
	_ Encoder = (*Model)(nil)
	_ Encoder = (*Embedder)(nil)
)

// identityVersion starts the bytes hashed into a model's identity; a
// change of what decides the vectors changes it.
const identityVersion = "simsearch encoder identity 1"

// modelIdentity returns the identity of a model: the hex SHA-256 of its
// kind, architecture, input preprocessing and the weights of its encoder
// network (not those of a decoder or head, nor the training's metadata:
// a retrained model with bit-identical weights has the same identity).
func modelIdentity(info Info, w *weights) string {
	h := sha256.New()
	field := func(parts ...string) {
		h.Write([]byte(strings.Join(parts, " ")))
		h.Write([]byte{0})
	}
	field(identityVersion)
	itoa := strconv.Itoa
	if info.Objective == Pixels {
		field("pixels", "res", itoa(info.Res), "pool", itoa(info.Pool))
	} else {
		field("network", "res", itoa(info.Res), "width", itoa(info.Width), "latent", itoa(info.Latent))
	}
	field("input", info.Input.identity())
	if w != nil {
		var buf []byte
		for _, p := range w.params {
			if !strings.HasPrefix(p.name, "encoder.") {
				continue
			}
			shape := p.torchShape()
			dims := make([]string, len(shape))
			for i, d := range shape {
				dims[i] = strconv.FormatUint(d, 10)
			}
			field(p.name, strings.Join(dims, "x"))
			values := p.toTorch()
			buf = buf[:0]
			for _, v := range values {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			h.Write(buf)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FileID returns the hex SHA-256 of checkpoint bytes: the identity that
// spaces made before identities ignored training metadata stored for
// their encoder.
func FileID(checkpoint []byte) string {
	sum := sha256.Sum256(checkpoint)
	return hex.EncodeToString(sum[:])
}

// checkImages says which image, if any, is not res×res pixels: every
// encoder takes images of its resolution only.
func checkImages(images []*image.RGBA, res int) error {
	for i, img := range images {
		if img == nil || img.Rect.Dx() != res || img.Rect.Dy() != res {
			size := "nil"
			if img != nil {
				size = fmt.Sprintf("%d×%d", img.Rect.Dx(), img.Rect.Dy())
			}
			return fmt.Errorf("image %d is %s pixels; the encoder takes %d×%d", i, size, res, res)
		}
	}
	return nil
}
