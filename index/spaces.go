package index

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"unicode"

	bolt "go.etcd.io/bbolt"
)

// CreateSpace creates a space, or opens it if it exists with the same
// encoder ID, dimension and metric (so that an interrupted ingestion can
// resume). An existing space with another encoder is an error wrapping
// ErrEncoderMismatch.
func (db *DB) CreateSpace(ctx context.Context, cfg SpaceConfig) (*Space, error) {
	if err := db.checkWritable(); err != nil {
		return nil, fmt.Errorf("create space: %w", err)
	}
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()

	if s, err := db.Space(cfg.Name); err == nil {
		rec := s.record()
		if want := cmp.Or(cfg.Storage, db.opts.Storage); want != DefaultStorage && want != rec.storage {
			return nil, fmt.Errorf("create space %q: %w: it keeps its vectors as %v, not %v (the storage is chosen when a space is created)",
				cfg.Name, ErrInvalid, rec.storage, want)
		}
		if rec.encoderID != cfg.Encoder.ID || rec.dim != cfg.Dim || rec.metric != cfg.Metric {
			return nil, fmt.Errorf("create space %q: %w: it holds %d-d %v vectors of encoder %s, not %d-d %v vectors of %s",
				cfg.Name, ErrEncoderMismatch, rec.dim, rec.metric, rec.encoderID, cfg.Dim, cfg.Metric, cfg.Encoder.ID)
		}
		return s, nil
	} else if !errors.Is(err, ErrNoSpace) {
		return nil, err
	}

	rec := spaceRecord{
		dim: cfg.Dim, metric: cfg.Metric, graph: cfg.Graph,
		encoderID: cfg.Encoder.ID, description: cfg.Encoder.Description,
		resolution: cfg.Encoder.Resolution, encoderSize: int64(len(cfg.Encoder.Checkpoint)),
		storage: cmp.Or(cfg.Storage, db.opts.Storage, Float32),
	}
	err = db.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketSpaces).CreateBucket([]byte(cfg.Name))
		if err != nil {
			return err
		}
		if err := b.Put(keySpaceConfig, rec.encode()); err != nil {
			return err
		}
		if _, err := b.CreateBucket(bucketVectors); err != nil {
			return err
		}
		return writeBlob(b, bucketEncoder, cfg.Encoder.Checkpoint, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("create space %q in %s: %w", cfg.Name, db.path, err)
	}
	s := &Space{db: db, name: cfg.Name, rec: rec}
	db.mu.Lock()
	db.spaces[cfg.Name] = s
	db.mu.Unlock()
	return s, nil
}

// Validate returns cfg with its defaults filled in (Cosine, the graph
// defaults), or an error wrapping ErrInvalid that says which field is
// wrong. CreateSpace calls it; other stores use it to keep the same rules.
func (cfg SpaceConfig) Validate() (SpaceConfig, error) {
	if err := checkSpaceName(cfg.Name); err != nil {
		return SpaceConfig{}, err
	}
	cfg.Metric = cmp.Or(cfg.Metric, Cosine)
	cfg.Graph = cfg.Graph.withDefaults()
	switch {
	case cfg.Dim < 1 || cfg.Dim > maxDim:
		return SpaceConfig{}, fmt.Errorf("create space %q: %w: dimension %d, want 1 to %d", cfg.Name, ErrInvalid, cfg.Dim, maxDim)
	case cfg.Metric != Cosine && cfg.Metric != Euclidean:
		return SpaceConfig{}, fmt.Errorf("create space %q: %w: unknown metric %d", cfg.Name, ErrInvalid, cfg.Metric)
	case cfg.Storage > Int8:
		return SpaceConfig{}, fmt.Errorf("create space %q: %w: unknown storage %d", cfg.Name, ErrInvalid, cfg.Storage)
	case cfg.Graph.M < 2 || cfg.Graph.M > 1024 || cfg.Graph.EfConstruction < 1 || cfg.Graph.EfSearch < 1:
		return SpaceConfig{}, fmt.Errorf("create space %q: %w: graph parameters %+v", cfg.Name, ErrInvalid, cfg.Graph)
	case cfg.Encoder.ID == "" || len(cfg.Encoder.ID) > 1024:
		return SpaceConfig{}, fmt.Errorf("create space %q: %w: the encoder needs an ID", cfg.Name, ErrInvalid)
	case len(cfg.Encoder.Description) > 4096 || cfg.Encoder.Resolution < 0:
		return SpaceConfig{}, fmt.Errorf("create space %q: %w: encoder description or resolution", cfg.Name, ErrInvalid)
	case int64(len(cfg.Encoder.Checkpoint)) >= maxEncoderLen:
		return SpaceConfig{}, fmt.Errorf("create space %q: %w: checkpoint of %d bytes", cfg.Name, ErrInvalid, len(cfg.Encoder.Checkpoint))
	}
	return cfg, nil
}

func checkSpaceName(name string) error {
	if name == "" || len(name) > maxSpaceName {
		return fmt.Errorf("space name %q: %w: want 1 to %d characters", name, ErrInvalid, maxSpaceName)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("space name %q: %w: only printable characters", name, ErrInvalid)
		}
	}
	return nil
}

// Space returns the space called name, or an error wrapping ErrNoSpace. It
// reads which items have vectors; vectors and graph load on first use
// (or with Load).
func (db *DB) Space(name string) (*Space, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	s, ok := db.spaces[name]
	db.mu.Unlock()
	if ok {
		return s, nil
	}
	s = &Space{db: db, name: name}
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSpaces).Bucket([]byte(name))
		if b == nil {
			return fmt.Errorf("space %q in %s: %w%s", name, db.path, ErrNoSpace, db.spaceHint(tx))
		}
		rec, err := decodeSpaceRecord(b.Get(keySpaceConfig))
		if err != nil {
			return fmt.Errorf("space %q: %w", name, err)
		}
		s.rec = rec
		if err := s.readNodes(b); err != nil {
			return fmt.Errorf("space %q: %w", name, err)
		}
		if gb := b.Bucket(bucketGraph); gb != nil {
			if h, err := decodeBlobHeader(gb.Get(keyBlobHeader)); err == nil {
				if gh, err := decodeGraphExtra(h.extra); err == nil {
					s.saved = gh.nodes
					s.savedBytes = int64(h.length)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if other, ok := db.spaces[name]; ok {
		return other, nil
	}
	db.spaces[name] = s
	return s, nil
}

// spaceHint lists the spaces that exist, for an error message.
func (db *DB) spaceHint(tx *bolt.Tx) string {
	var names []string
	tx.Bucket(bucketSpaces).ForEachBucket(func(k []byte) error {
		names = append(names, fmt.Sprintf("%q", k))
		return nil
	})
	if len(names) == 0 {
		return " (the file holds no spaces)"
	}
	return " (the file holds " + joinNames(names) + ")"
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// SpaceNames returns the names of the spaces, sorted.
func (db *DB) SpaceNames() ([]string, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	var names []string
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSpaces).ForEachBucket(func(k []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	sort.Strings(names)
	return names, err
}

// DeleteSpace removes a space: its vectors, graph and encoder. Items stay.
func (db *DB) DeleteSpace(ctx context.Context, name string) error {
	if err := db.checkWritable(); err != nil {
		return fmt.Errorf("delete space: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	err := db.update(func(tx *bolt.Tx) error {
		spaces := tx.Bucket(bucketSpaces)
		if spaces.Bucket([]byte(name)) == nil {
			return fmt.Errorf("space %q: %w", name, ErrNoSpace)
		}
		return spaces.DeleteBucket([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("delete space %q from %s: %w", name, db.path, err)
	}
	db.mu.Lock()
	delete(db.spaces, name)
	db.mu.Unlock()
	return nil
}
