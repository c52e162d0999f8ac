package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"simsearch/index"
)

// pgvector's limits.
const (
	maxStoredDim  = 16000 // a vector column
	maxIndexedDim = 2000  // an HNSW index on vector
	maxM          = 100
	maxEfSearch   = 1000
)

// CreateSpace creates a space (its row and its vectors table), or opens it
// if it exists with the same encoder ID, dimension and metric; another
// encoder is an error wrapping index.ErrEncoderMismatch. Two processes
// creating one space at once both end with it.
func (st *Store) CreateSpace(ctx context.Context, cfg index.SpaceConfig) (index.SpaceStore, error) {
	if err := st.checkWritable(); err != nil {
		return nil, fmt.Errorf("create space: %w", err)
	}
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	g := cfg.Graph
	switch {
	case cfg.Storage == index.Int8 || (cfg.Storage == index.DefaultStorage && st.opts.Storage == index.Int8):
		return nil, fmt.Errorf("create space %q: %w: the PostgreSQL store keeps float32 vectors (pgvector's vector type); %v storage is for database files", cfg.Name, index.ErrInvalid, cfg.Storage)
	case cfg.Dim > maxStoredDim:
		return nil, fmt.Errorf("create space %q: %w: dimension %d; pgvector stores at most %d", cfg.Name, index.ErrInvalid, cfg.Dim, maxStoredDim)
	case g.M > maxM || g.EfConstruction < 2*g.M || g.EfConstruction > 1000:
		return nil, fmt.Errorf("create space %q: %w: M %d and ef_construction %d; pgvector's HNSW takes M up to %d and ef_construction from 2·M to 1000",
			cfg.Name, index.ErrInvalid, g.M, g.EfConstruction, maxM)
	}
	var sp *Space
	err = retry(ctx, func() error {
		return pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
			var id int
			err := tx.QueryRow(ctx, `INSERT INTO simsearch.spaces (name, dim, metric, m, ef_construction, ef_search, seed,
				encoder_id, description, resolution, checkpoint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (name) DO NOTHING RETURNING id`,
				cfg.Name, cfg.Dim, cfg.Metric.String(), g.M, g.EfConstruction, g.EfSearch, int64(g.Seed),
				cfg.Encoder.ID, cfg.Encoder.Description, cfg.Encoder.Resolution, nonNilBytes(cfg.Encoder.Checkpoint)).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // it exists: compared below
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE simsearch.vectors_%d (
				item_id bigint PRIMARY KEY,
				seq bigint GENERATED ALWAYS AS IDENTITY,
				split text NOT NULL,
				set_id bigint NOT NULL,
				grp text NOT NULL,
				labels jsonb NOT NULL,
				embedding vector(%d) NOT NULL)`, id, cfg.Dim)); err != nil {
				return err
			}
			sp = st.newSpace(id, cfg)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("create space %q in %s: %w", cfg.Name, st.path, st.wrap(err))
	}
	if sp == nil {
		s, err := st.space(ctx, cfg.Name)
		if err != nil {
			return nil, err
		}
		if s.encoderID != cfg.Encoder.ID || s.dim != cfg.Dim || s.metric != cfg.Metric {
			return nil, fmt.Errorf("create space %q: %w: it holds %d-d %v vectors of encoder %s, not %d-d %v vectors of %s",
				cfg.Name, index.ErrEncoderMismatch, s.dim, s.metric, s.encoderID, cfg.Dim, cfg.Metric, cfg.Encoder.ID)
		}
		return s, nil
	}
	st.mu.Lock()
	st.spaces[cfg.Name] = sp
	st.mu.Unlock()
	return sp, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Space returns the space called name, or an error wrapping
// index.ErrNoSpace that lists the spaces there are.
func (st *Store) Space(name string) (index.SpaceStore, error) {
	ctx, cancel := quick()
	defer cancel()
	s, err := st.space(ctx, name)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// space returns the handle of space name, reading its row when this
// store has no handle for it yet (or the space was made again since).
func (st *Store) space(ctx context.Context, name string) (*Space, error) {
	if err := st.checkOpen(); err != nil {
		return nil, err
	}
	var (
		id                           int
		cfg                          index.SpaceConfig
		metric                       string
		seed                         int64
		m, efc, efs, dim, resolution int
		encoderID, description       string
	)
	err := st.pool.QueryRow(ctx, `SELECT id, dim, metric, m, ef_construction, ef_search, seed, encoder_id, description, resolution
		FROM simsearch.spaces WHERE name = $1`, name).Scan(&id, &dim, &metric, &m, &efc, &efs, &seed, &encoderID, &description, &resolution)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("space %q in %s: %w%s", name, st.path, index.ErrNoSpace, st.spaceHint(ctx))
	}
	if err != nil {
		return nil, fmt.Errorf("space %q in %s: %w", name, st.path, st.wrap(err))
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.spaces[name]; ok && s.id == id {
		return s, nil
	}
	mt, err := index.ParseMetric(metric)
	if err != nil {
		return nil, fmt.Errorf("space %q: %w: %v", name, index.ErrCorrupt, err)
	}
	cfg = index.SpaceConfig{Name: name, Dim: dim, Metric: mt,
		Graph:   index.GraphConfig{M: m, EfConstruction: efc, EfSearch: efs, Seed: uint64(seed)},
		Encoder: index.Encoder{ID: encoderID, Description: description, Resolution: resolution}}
	s := st.newSpace(id, cfg)
	st.spaces[name] = s
	return s, nil
}

// spaceHint lists the spaces that exist, for an error message.
func (st *Store) spaceHint(ctx context.Context) string {
	names, err := st.spaceNames(ctx)
	if err != nil {
		return ""
	}
	if len(names) == 0 {
		return " (the database holds no spaces)"
	}
	for i, n := range names {
		names[i] = fmt.Sprintf("%q", n)
	}
	return " (the database holds " + strings.Join(names, ", ") + ")"
}

// SpaceNames returns the names of the spaces, sorted.
func (st *Store) SpaceNames() ([]string, error) {
	if err := st.checkOpen(); err != nil {
		return nil, err
	}
	ctx, cancel := quick()
	defer cancel()
	return st.spaceNames(ctx)
}

func (st *Store) spaceNames(ctx context.Context) ([]string, error) {
	rows, err := st.pool.Query(ctx, "SELECT name FROM simsearch.spaces")
	if err != nil {
		return nil, st.wrap(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, st.wrap(err)
	}
	sort.Strings(names) // byte order, as the file's, whatever the collation
	return names, nil
}

// DeleteSpace removes a space: its row, its vectors and their index.
// Items stay.
func (st *Store) DeleteSpace(ctx context.Context, name string) error {
	if err := st.checkWritable(); err != nil {
		return fmt.Errorf("delete space: %w", err)
	}
	err := pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
		var id int
		err := tx.QueryRow(ctx, "DELETE FROM simsearch.spaces WHERE name = $1 RETURNING id", name).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("space %q: %w", name, index.ErrNoSpace)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, fmt.Sprintf("DROP TABLE IF EXISTS simsearch.vectors_%d", id))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete space %q from %s: %w", name, st.path, st.wrap(err))
	}
	st.mu.Lock()
	delete(st.spaces, name)
	st.mu.Unlock()
	return nil
}

// Info describes the database: its items, by split, and its spaces.
// FileSize is the size of the simsearch schema's tables and indexes.
func (st *Store) Info() (index.Info, error) {
	if err := st.checkOpen(); err != nil {
		return index.Info{}, err
	}
	ctx, cancel := quick()
	defer cancel()
	c, err := st.readCounts(ctx)
	if err != nil {
		return index.Info{}, err
	}
	info := index.Info{Path: st.path, FormatVersion: SchemaVersion, Items: c.items, Splits: c.splits, ProbeItems: c.probes, Spaces: []index.SpaceInfo{}}
	err = st.pool.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'simsearch' AND c.relkind = 'r'`).Scan(&info.FileSize)
	if err != nil {
		return index.Info{}, st.wrap(err)
	}
	names, err := st.spaceNames(ctx)
	if err != nil {
		return index.Info{}, err
	}
	for _, name := range names {
		s, err := st.space(ctx, name)
		if err != nil {
			return index.Info{}, err
		}
		info.Spaces = append(info.Spaces, s.Info())
	}
	return info, nil
}
