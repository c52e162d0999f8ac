package spaces

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"simsearch/encoder"
	"simsearch/index"
)

// Space is a space of a store together with the encoder that embeds new
// images for it: the one it was opened with, or the one it stores,
// decoded and checked on first use.
//
// Concurrency: a Space is safe for concurrent use.
type Space struct {
	store index.Store
	index index.SpaceStore

	mu sync.Mutex
	// enc is nil until Encoder or Use sets it; owned tells whether the
	// Space decoded it (and so closes it).
	enc   encoder.Encoder
	owned bool
	// encOpts run the stored encoder (see SetEncoderOptions).
	encOpts EncoderOptions
}

// EncoderOptions say how to run the encoder a space stores, when it is an
// encoder command (see encoder.Command). The zero value runs the stored
// command line with the defaults.
type EncoderOptions struct {
	// Command configures the command: its Timeout, Batch, Stderr and Dir;
	// a non-empty Command.Command runs instead of the stored command line
	// (its fingerprint must still match). Res must be 0 or the stored
	// resolution.
	Command encoder.CommandOptions
}

// SetEncoderOptions sets how Encoder runs the stored encoder. It has no
// effect on an encoder already opened.
func (s *Space) SetEncoderOptions(o EncoderOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.encOpts = o
}

// Open returns the space called name of st; when name is empty, st's only
// space. A missing space is an error wrapping index.ErrNoSpace; an empty
// name with several spaces one wrapping ErrChooseSpace.
func Open(st index.Store, name string) (*Space, error) {
	if name == "" {
		names, err := st.SpaceNames()
		if err != nil {
			return nil, err
		}
		switch len(names) {
		case 0:
			return nil, fmt.Errorf("%s: %w (the store holds no space yet; ingest images into one first)", st.Path(), index.ErrNoSpace)
		case 1:
			name = names[0]
		default:
			return nil, fmt.Errorf("%w: %s holds %d spaces (%s)", ErrChooseSpace, st.Path(), len(names), strings.Join(names, ", "))
		}
	}
	sp, err := st.Space(name)
	if err != nil {
		return nil, err
	}
	return &Space{store: st, index: sp}, nil
}

// Create returns the space called name of st for enc: the space is created
// for it (its dimension, identity, resolution, description and checkpoint)
// when it does not exist, and must hold enc's vectors when it does
// (otherwise the error wraps index.ErrEncoderMismatch). created tells
// which.
func Create(ctx context.Context, st index.Store, name string, enc encoder.Encoder) (s *Space, created bool, err error) {
	sp, err := st.Space(name)
	switch {
	case errors.Is(err, index.ErrNoSpace):
		sp, err = st.CreateSpace(ctx, index.SpaceConfig{
			Name: name, Dim: enc.Dim(), Metric: index.Cosine,
			Encoder: index.Encoder{ID: enc.ID(), Description: enc.String(), Resolution: enc.Res(), Checkpoint: enc.Checkpoint()},
		})
		if err != nil {
			return nil, false, err
		}
		return &Space{store: st, index: sp, enc: enc}, true, nil
	case err != nil:
		return nil, false, err
	}
	s = &Space{store: st, index: sp}
	if err := s.Use(enc); err != nil {
		return nil, false, err
	}
	return s, false, nil
}

// Name returns the space's name.
func (s *Space) Name() string { return s.index.Name() }

// Store returns the store the space belongs to.
func (s *Space) Store() index.Store { return s.store }

// Index returns the space's vectors and their index.
func (s *Space) Index() index.SpaceStore { return s.index }

// Use makes enc the encoder of new images, after checking that the space
// holds its vectors (see SameEncoder). The caller keeps ownership of enc.
func (s *Space) Use(enc encoder.Encoder) error {
	stored, err := s.index.Encoder()
	if err != nil {
		return err
	}
	if err := SameEncoder(stored, enc); err != nil {
		return fmt.Errorf("space %q: %w", s.Name(), err)
	}
	// A command that gives the space's fingerprint embeds under the
	// space's identity.
	if c, ok := enc.(*encoder.Command); ok && c.ID() != stored.ID {
		if err := c.Adopt(stored.Checkpoint); err != nil {
			return fmt.Errorf("space %q: %w", s.Name(), err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeOwned()
	s.enc, s.owned = enc, false
	return nil
}

// Encoder returns the encoder of new images: the one given to Create or
// Use, or else the one the space stores (see OpenEncoder), opened once.
func (s *Space) Encoder() (encoder.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enc != nil {
		return s.enc, nil
	}
	enc, err := OpenEncoderWith(s.index, s.encOpts)
	if err != nil {
		return nil, err
	}
	s.enc, s.owned = enc, true
	return enc, nil
}

// Close releases the encoder the space opened itself. The store stays
// open.
func (s *Space) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeOwned()
}

func (s *Space) closeOwned() error {
	if s.enc == nil || !s.owned {
		return nil
	}
	err := s.enc.Close()
	s.enc, s.owned = nil, false
	return err
}

// OpenEncoder decodes the encoder a space stores and checks that it is the
// one the space records (its identity); it is OpenEncoderWith with the
// zero options.
func OpenEncoder(sp index.SpaceStore) (encoder.Encoder, error) {
	return OpenEncoderWith(sp, EncoderOptions{})
}

// OpenEncoderWith decodes the encoder a space stores and checks that it
// is the one the space records (its identity). What a space stores is one
// of:
//   - a simsearch checkpoint (a safetensors file): the *encoder.Model;
//   - an encoder command's spec (encoder.IsCommandSpec): an
//     *encoder.Command run with opts.Command, started on its first Embed,
//     which checks its fingerprint then;
//   - a precomputed-vectors spec (encoder.IsPrecomputedSpec): an
//     *encoder.Precomputed, whose Embed fails with encoder.ErrNoEncoder.
//
// Errors wrap the encoder package's (bytes this build cannot read) or
// index.ErrCorrupt.
func OpenEncoderWith(sp index.SpaceStore, opts EncoderOptions) (encoder.Encoder, error) {
	stored, err := sp.Encoder()
	if err != nil {
		return nil, err
	}
	var enc encoder.Encoder
	switch b := stored.Checkpoint; {
	case encoder.IsCommandSpec(b):
		enc, err = encoder.OpenCommand(b, opts.Command)
	case encoder.IsPrecomputedSpec(b):
		enc, err = encoder.OpenPrecomputed(b)
	default:
		return openModel(sp, stored)
	}
	if err != nil {
		return nil, fmt.Errorf("space %q: the encoder stored in it: %w", sp.Name(), err)
	}
	if stored.ID != enc.ID() {
		enc.Close()
		return nil, fmt.Errorf("space %q: %w: the stored encoder has identity %.20s, the space records %.20s", sp.Name(), index.ErrCorrupt, enc.ID(), stored.ID)
	}
	return enc, nil
}

// openModel decodes a space's stored checkpoint.
func openModel(sp index.SpaceStore, stored index.Encoder) (encoder.Encoder, error) {
	m, err := encoder.Decode(stored.Checkpoint)
	if err != nil {
		return nil, fmt.Errorf("space %q: the encoder stored in it: %w", sp.Name(), err)
	}
	// Spaces made before identities ignored the training's metadata record
	// the hash of the checkpoint file.
	if stored.ID != m.ID() && stored.ID != encoder.FileID(stored.Checkpoint) {
		return nil, fmt.Errorf("space %q: %w: the stored encoder has identity %.12s, the space records %.12s", sp.Name(), index.ErrCorrupt, m.ID(), stored.ID)
	}
	return m, nil
}

// SameEncoder returns nil when enc gives the vectors of the stored encoder,
// otherwise an error wrapping index.ErrEncoderMismatch that names both.
// Identities decide; a space that records the identity of an older build
// (the hash of its checkpoint file) is compared through its stored
// checkpoint, so a model retrained to the same weights still matches.
func SameEncoder(stored index.Encoder, enc encoder.Encoder) error {
	if stored.ID == enc.ID() {
		return nil
	}
	// A command is the space's encoder when it gives the stored
	// fingerprint, within its tolerance.
	if c, ok := enc.(*encoder.Command); ok && encoder.IsCommandSpec(stored.Checkpoint) {
		if err := c.Matches(stored.Checkpoint); err != nil {
			return commandMismatch{fmt.Errorf("%w; use the command the space was made with, another space, or --reembed to rebuild this one", err)}
		}
		return nil
	}
	if m, err := encoder.Decode(stored.Checkpoint); err == nil && m.ID() == enc.ID() {
		return nil
	}
	what := stored.Description
	if what == "" {
		what = "another encoder"
	}
	return fmt.Errorf("%w (%s, id %.12s), not %s (id %.12s); use another space, or the space's own encoder",
		index.ErrEncoderMismatch, what, stored.ID, enc, enc.ID())
}

// commandMismatch is an encoder command that is not a space's encoder: its
// message is the command's, and it wraps index.ErrEncoderMismatch too.
type commandMismatch struct{ err error }

func (e commandMismatch) Error() string   { return e.err.Error() }
func (e commandMismatch) Unwrap() []error { return []error{e.err, index.ErrEncoderMismatch} }
