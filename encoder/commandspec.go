package encoder

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"strconv"

	"simsearch/dataset"
)

// An encoder command's spec is what a space stores as the checkpoint of
// an encoder that runs in another program: a small JSON document, for
// example (vectors shortened)
//
//	{"format": "simsearch-encoder-command", "format_version": 1,
//	 "command": "python3 embed.py", "res": 64, "dim": 128,
//	 "fingerprint": {"images": "shapes:n=16,seed=1317,res=64,val=0",
//	                 "digest": "9c1f…", "tolerance": 0.01,
//	                 "vectors": [[0.0132, -0.101, …], …]}}
//
// The fingerprint is the unit vectors the command gave for a fixed set of
// generated images when the space was made: a command is the encoder of
// the space when it gives the same vectors for those images again, within
// the tolerance (see Command.Matches).

// CommandFormatVersion is the version of the encoder command spec this
// package writes and reads.
const CommandFormatVersion = 1

// commandFormat is the value of a command spec's "format" field.
const commandFormat = "simsearch-encoder-command"

// FingerprintImages is the number of generated images whose vectors
// identify an encoder command.
const FingerprintImages = 16

// FingerprintTolerance is the largest Euclidean distance between a
// fingerprint image's unit vector when the space was made and now for
// which a command is still the space's encoder: a cosine of at least
// 0.99995. Running the same network on another device or library version
// (a GPU's TF32 products, another BLAS) moves vectors by far less; any
// retraining or a change of preprocessing moves them by far more.
const FingerprintTolerance = 0.01

// fingerprintSeed draws the fingerprint images.
const fingerprintSeed = 1317

// commandSpec is the stored spec of an encoder command.
type commandSpec struct {
	Format        string      `json:"format"`
	FormatVersion int         `json:"format_version"`
	Command       string      `json:"command"`
	Res           int         `json:"res"`
	Dim           int         `json:"dim"`
	Fingerprint   fingerprint `json:"fingerprint"`
}

// fingerprint is the vectors of the fingerprint images.
type fingerprint struct {
	// Images is the generator spec of the images, Digest the hex SHA-256
	// of their pixels (so that a generator that draws other images is
	// told apart from an encoder that changed).
	Images    string      `json:"images"`
	Digest    string      `json:"digest"`
	Tolerance float64     `json:"tolerance"`
	Vectors   [][]float32 `json:"vectors"`
}

// fingerprintImages returns the fingerprint images at resolution res, their
// generator spec and the digest of their pixels.
func fingerprintImages(res int) ([]*image.RGBA, string, string) {
	spec := dataset.Spec{N: FingerprintImages, Seed: fingerprintSeed, Res: res}
	images := make([]*image.RGBA, spec.N)
	h := sha256.New()
	for i := range images {
		images[i] = spec.Image(i)
		h.Write(images[i].Pix)
	}
	return images, spec.String(), hex.EncodeToString(h.Sum(nil))
}

// IsCommandSpec reports whether b is the stored spec of an encoder command
// (of any format version): bytes OpenCommand reads, not a checkpoint.
func IsCommandSpec(b []byte) bool {
	return isJSONFormat(b, commandFormat)
}

// isJSONFormat reports whether b is a JSON object whose "format" is
// format.
func isJSONFormat(b []byte, format string) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var head struct {
		Format string `json:"format"`
	}
	return json.Unmarshal(b, &head) == nil && head.Format == format
}

// decodeCommandSpec parses and checks a stored command spec.
func decodeCommandSpec(b []byte) (commandSpec, error) {
	var s commandSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return commandSpec{}, fmt.Errorf("%w: encoder command spec: %w", ErrBadCheckpoint, err)
	}
	if s.Format != commandFormat {
		return commandSpec{}, fmt.Errorf("%w: not an encoder command spec", ErrBadCheckpoint)
	}
	if s.FormatVersion != CommandFormatVersion {
		return commandSpec{}, fmt.Errorf("%w: encoder command spec of format version %d; this build of simsearch reads version %d", ErrBadCheckpoint, s.FormatVersion, CommandFormatVersion)
	}
	if err := s.check(); err != nil {
		return commandSpec{}, fmt.Errorf("%w: encoder command spec: %w", ErrBadCheckpoint, err)
	}
	return s, nil
}

// check returns an error if the fields of s contradict each other.
func (s commandSpec) check() error {
	f := s.Fingerprint
	switch {
	case s.Command == "":
		return fmt.Errorf("no command")
	case s.Res < 1 || s.Res > MaxRes:
		return fmt.Errorf("resolution %d", s.Res)
	case s.Dim < 1 || s.Dim > MaxCommandDim:
		return fmt.Errorf("dimension %d", s.Dim)
	case len(f.Vectors) != FingerprintImages:
		return fmt.Errorf("%d fingerprint vectors, want %d", len(f.Vectors), FingerprintImages)
	case !(f.Tolerance > 0 && f.Tolerance < 2):
		return fmt.Errorf("fingerprint tolerance %v", f.Tolerance)
	}
	for i, v := range f.Vectors {
		if len(v) != s.Dim {
			return fmt.Errorf("fingerprint vector %d has %d values, not %d", i, len(v), s.Dim)
		}
	}
	return nil
}

// encode returns the spec's stored bytes.
func (s commandSpec) encode() []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic("encoder: encode command spec: " + err.Error()) // finite float32s always marshal
	}
	return b
}

// identity returns the identity of the encoder behind a spec: the hex
// SHA-256 of its resolution, dimension and fingerprint, not of its command
// line (the same encoder may be started by another command line, on
// another machine).
func (s commandSpec) identity() string {
	h := sha256.New()
	field := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{' '})
		}
		h.Write([]byte{0})
	}
	field("simsearch encoder command identity 1")
	field("res", strconv.Itoa(s.Res), "dim", strconv.Itoa(s.Dim))
	field("fingerprint", s.Fingerprint.Images, s.Fingerprint.Digest)
	var buf []byte
	for _, v := range s.Fingerprint.Vectors {
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
	}
	h.Write(buf)
	return "command-" + hex.EncodeToString(h.Sum(nil))
}

// fingerprintDistance returns the largest Euclidean distance between
// the vectors of the same fingerprint image in a and b, and that image.
func fingerprintDistance(a, b [][]float32) (float64, int) {
	worst, at := 0.0, 0
	for i := range a {
		var d float64
		for j := range a[i] {
			x := float64(a[i][j]) - float64(b[i][j])
			d += x * x
		}
		if d = math.Sqrt(d); d > worst {
			worst, at = d, i
		}
	}
	return worst, at
}
