package encoder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"strconv"
)

// A space of precomputed vectors stores, as its encoder's checkpoint, a
// small JSON document that says so:
//
//	{"format": "simsearch-precomputed-vectors", "format_version": 1,
//	 "dim": 512, "vectors": "emb.npy"}
//
// It has no encoder: what needs new images embedded (queries by image,
// the report's interventions and orbits) is not available for it.

// PrecomputedFormatVersion is the version of the precomputed-vectors spec
// this package writes and reads.
const PrecomputedFormatVersion = 1

const precomputedFormat = "simsearch-precomputed-vectors"

// precomputedSpec is the stored spec of a space of precomputed vectors.
type precomputedSpec struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	Dim           int    `json:"dim"`
	// Vectors is the file the first vectors came from, for reports.
	Vectors string `json:"vectors"`
}

// Precomputed stands for the encoder of a space whose vectors were made
// elsewhere and ingested as they are (ingest --vectors): it knows their
// dimension and where they came from, and cannot embed an image (Embed
// returns an error wrapping ErrNoEncoder). Res is 0.
//
// Concurrency: a Precomputed is immutable and safe for concurrent use.
type Precomputed struct {
	spec  precomputedSpec
	bytes []byte
}

var _ Encoder = (*Precomputed)(nil)

// NewPrecomputed returns the encoder of a space of precomputed vectors of
// dim values, the first of which came from the file vectors.
func NewPrecomputed(dim int, vectors string) (*Precomputed, error) {
	if dim < 1 || dim > MaxCommandDim {
		return nil, fmt.Errorf("%w: vectors of %d values; a space holds 1 to %d", ErrOptions, dim, MaxCommandDim)
	}
	s := precomputedSpec{Format: precomputedFormat, FormatVersion: PrecomputedFormatVersion, Dim: dim, Vectors: vectors}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return &Precomputed{spec: s, bytes: b}, nil
}

// IsPrecomputedSpec reports whether b is the stored spec of a space of
// precomputed vectors (of any format version).
func IsPrecomputedSpec(b []byte) bool { return isJSONFormat(b, precomputedFormat) }

// OpenPrecomputed reads a stored precomputed-vectors spec. Errors wrap
// ErrBadCheckpoint.
func OpenPrecomputed(b []byte) (*Precomputed, error) {
	var s precomputedSpec
	if err := json.Unmarshal(b, &s); err != nil || s.Format != precomputedFormat {
		return nil, fmt.Errorf("%w: not a precomputed-vectors spec", ErrBadCheckpoint)
	}
	if s.FormatVersion != PrecomputedFormatVersion {
		return nil, fmt.Errorf("%w: precomputed-vectors spec of format version %d; this build of simsearch reads version %d", ErrBadCheckpoint, s.FormatVersion, PrecomputedFormatVersion)
	}
	if s.Dim < 1 || s.Dim > MaxCommandDim {
		return nil, fmt.Errorf("%w: precomputed vectors of dimension %d", ErrBadCheckpoint, s.Dim)
	}
	return &Precomputed{spec: s, bytes: b}, nil
}

// Res returns 0: a space of precomputed vectors takes no images.
func (p *Precomputed) Res() int { return 0 }

// Dim returns the dimension of the vectors.
func (p *Precomputed) Dim() int { return p.spec.Dim }

// ID returns the identity of the space's vectors: "precomputed-" and a
// digest of their dimension. Vectors made elsewhere are the caller's to
// keep consistent: simsearch cannot tell two outside encoders apart.
func (p *Precomputed) ID() string {
	sum := sha256.Sum256([]byte("simsearch precomputed vectors 1 dim " + strconv.Itoa(p.spec.Dim)))
	return "precomputed-" + hex.EncodeToString(sum[:])
}

// String describes the vectors.
func (p *Precomputed) String() string {
	return fmt.Sprintf("precomputed vectors (%s), %d dimensions", p.spec.Vectors, p.spec.Dim)
}

// Info describes the vectors for reports.
func (p *Precomputed) Info() Info {
	return Info{FormatVersion: PrecomputedFormatVersion, Dim: p.spec.Dim, Vectors: p.spec.Vectors}
}

// Checkpoint returns the stored spec.
func (p *Precomputed) Checkpoint() []byte { return p.bytes }

// Embed returns an error wrapping ErrNoEncoder.
func (p *Precomputed) Embed(context.Context, []*image.RGBA) ([][]float32, error) {
	return nil, fmt.Errorf("%w: its vectors were computed elsewhere (%s) and ingested with --vectors, so no new image can be embedded; ingest the images with --encoder or --encoder-cmd into another space for that", ErrNoEncoder, p.spec.Vectors)
}

// Close does nothing.
func (p *Precomputed) Close() error { return nil }
