package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"simsearch/index"
)

// Space is one space of a Store: its row in simsearch.spaces and its
// table of vectors with their HNSW index. Its configuration never changes
// once created; the vectors are read from the server each time.
//
// Concurrency: safe for concurrent use; searches run on the pool's
// connections in parallel.
type Space struct {
	st *Store
	id int
	// table is the vectors table's qualified name; hnswIndex its index's.
	table, hnswIndex string

	name      string
	dim       int
	metric    index.Metric
	graph     index.GraphConfig
	encoderID string
	desc      string
	res       int

	mu     sync.Mutex // guards the fields below
	loaded bool
	counts map[string]planCount // matching vectors by filter
}

// planCount is a cached count of the vectors a filter keeps.
type planCount struct{ matching, vectors int }

func (st *Store) newSpace(id int, cfg index.SpaceConfig) *Space {
	return &Space{
		st: st, id: id,
		table:     fmt.Sprintf("simsearch.vectors_%d", id),
		hnswIndex: fmt.Sprintf("vectors_%d_hnsw", id),
		name:      cfg.Name, dim: cfg.Dim, metric: cfg.Metric, graph: cfg.Graph,
		encoderID: cfg.Encoder.ID, desc: cfg.Encoder.Description, res: cfg.Encoder.Resolution,
	}
}

// Name returns the space's name.
func (s *Space) Name() string { return s.name }

// Dim returns the dimension of its vectors.
func (s *Space) Dim() int { return s.dim }

// Metric returns its metric.
func (s *Space) Metric() index.Metric { return s.metric }

// Graph returns its HNSW parameters (Seed is kept but pgvector has none).
func (s *Space) Graph() index.GraphConfig { return s.graph }

// state reads the number of vectors and the index's existence and size.
func (s *Space) state(ctx context.Context) (vectors int, indexed bool, indexBytes int64, err error) {
	var size *int64
	err = s.st.pool.QueryRow(ctx, `SELECT vectors, (SELECT pg_relation_size(to_regclass($2))) FROM simsearch.spaces WHERE id = $1`,
		s.id, "simsearch."+s.hnswIndex).Scan(&vectors, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, 0, fmt.Errorf("space %q: %w (deleted meanwhile)", s.name, index.ErrNoSpace)
	}
	if err != nil {
		return 0, false, 0, s.st.wrap(err)
	}
	if size != nil {
		return vectors, true, *size, nil
	}
	return vectors, false, 0, nil
}

// Info describes the space. Stored describes its HNSW index: up to date
// whenever it exists (PostgreSQL maintains it), or when there is nothing
// to index.
func (s *Space) Info() index.SpaceInfo {
	ctx, cancel := quick()
	defer cancel()
	vectors, indexed, size, _ := s.state(ctx)
	var bytes int64
	_ = s.st.pool.QueryRow(ctx, "SELECT octet_length(checkpoint) FROM simsearch.spaces WHERE id = $1", s.id).Scan(&bytes)
	info := index.SpaceInfo{
		Name: s.name, Dim: s.dim, Metric: s.metric, Graph: s.graph,
		Encoder: index.EncoderInfo{ID: s.encoderID, Description: s.desc, Resolution: s.res, Bytes: bytes},
		Vectors: vectors, Storage: index.Float32,
		Stored: index.GraphState{UpToDate: indexed || vectors == 0 || s.dim > maxIndexedDim},
	}
	if indexed {
		info.Stored.Nodes, info.Stored.Bytes = vectors, size
	}
	return info
}

// Len returns the number of vectors (0 when the server cannot be asked).
func (s *Space) Len() int {
	ctx, cancel := quick()
	defer cancel()
	n, _, _, _ := s.state(ctx)
	return n
}

// Has reports whether item id has a vector in the space (false when the
// server cannot be asked).
func (s *Space) Has(id index.ItemID) bool {
	ctx, cancel := quick()
	defer cancel()
	var ok bool
	_ = s.st.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+s.table+" WHERE item_id = $1)", int64(id)).Scan(&ok)
	return ok
}

// Missing returns the ids among ids that have no vector in the space yet,
// in order. When the server cannot be asked it returns them all: sending
// a vector again is harmless, and the write then reports the failure.
func (s *Space) Missing(ids []index.ItemID) []index.ItemID {
	ctx, cancel := quick()
	defer cancel()
	rows, err := s.st.pool.Query(ctx, `SELECT u.x FROM unnest($1::bigint[]) WITH ORDINALITY AS u(x, o)
		WHERE NOT EXISTS (SELECT 1 FROM `+s.table+` v WHERE v.item_id = u.x) ORDER BY u.o`, int64s(ids))
	if err != nil {
		return slices.Clone(ids)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index.ItemID, error) {
		var id int64
		err := r.Scan(&id)
		return index.ItemID(id), err
	})
	if err != nil {
		return slices.Clone(ids)
	}
	return out
}

// Items returns the ids of the items with a vector in the space, in the
// order their vectors were added (nil when the server cannot be asked).
func (s *Space) Items() []index.ItemID {
	ctx, cancel := quick()
	defer cancel()
	ids, _ := s.items(ctx)
	return ids
}

func (s *Space) items(ctx context.Context) ([]index.ItemID, error) {
	rows, err := s.st.pool.Query(ctx, "SELECT item_id FROM "+s.table+" ORDER BY seq")
	if err != nil {
		return nil, s.st.wrap(err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (index.ItemID, error) {
		var id int64
		err := r.Scan(&id)
		return index.ItemID(id), err
	})
}

// Encoder returns the space's encoder with its checkpoint.
func (s *Space) Encoder() (index.Encoder, error) {
	if err := s.st.checkOpen(); err != nil {
		return index.Encoder{}, err
	}
	ctx, cancel := quick()
	defer cancel()
	e := index.Encoder{ID: s.encoderID, Description: s.desc, Resolution: s.res}
	err := s.st.pool.QueryRow(ctx, "SELECT checkpoint FROM simsearch.spaces WHERE id = $1", s.id).Scan(&e.Checkpoint)
	if errors.Is(err, pgx.ErrNoRows) {
		return index.Encoder{}, fmt.Errorf("space %q: %w", s.name, index.ErrNoSpace)
	}
	if err != nil {
		return index.Encoder{}, fmt.Errorf("encoder of space %q: %w", s.name, s.st.wrap(err))
	}
	return e, nil
}

// CheckEncoder returns an error wrapping index.ErrEncoderMismatch unless
// id is the ID of the space's encoder.
func (s *Space) CheckEncoder(id string) error {
	if id != s.encoderID {
		return fmt.Errorf("space %q: %w: its vectors come from encoder %s, these from %s", s.name, index.ErrEncoderMismatch, s.encoderID, id)
	}
	return nil
}

// checkVectors validates count vectors of the space's dimension in flat.
func (s *Space) checkVectors(flat []float32, count int) error {
	if len(flat) != count*s.dim {
		return fmt.Errorf("%w: %d values for %d vectors of dimension %d", index.ErrInvalid, len(flat), count, s.dim)
	}
	for i := range count {
		var norm float64
		for _, x := range flat[i*s.dim : (i+1)*s.dim] {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: vector %d holds %v", index.ErrInvalid, i, x)
			}
			norm += float64(x) * float64(x)
		}
		if s.metric == index.Cosine && norm == 0 {
			return fmt.Errorf("%w: vector %d is zero and cannot be normalized", index.ErrInvalid, i)
		}
	}
	return nil
}

// prepared returns v as stored: a copy scaled to unit length in a Cosine
// space, as the file store scales it.
func (s *Space) prepared(v []float32) []float32 {
	if s.metric != index.Cosine {
		return v
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	scale := float32(1 / math.Sqrt(norm))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * scale
	}
	return out
}

// AddVectors stores the vectors of items ids in one transaction: they
// are copied (COPY) into a session's staging table and inserted from it
// with the items' filter columns, skipping items that have a vector here
// already (ON CONFLICT DO NOTHING), so a batch may be sent again and
// several writers may send the same items. added counts the new ones. An
// id the database does not hold wraps index.ErrNoItem; a bad vector
// index.ErrInvalid.
func (s *Space) AddVectors(ctx context.Context, ids []index.ItemID, vectors []float32) (added int, err error) {
	if err := s.st.checkWritable(); err != nil {
		return 0, fmt.Errorf("add vectors: %w", err)
	}
	if err := s.checkVectors(vectors, len(ids)); err != nil {
		return 0, fmt.Errorf("add vectors to space %q: %w", s.name, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// Rows in item order, each item once: writers that overlap then lock
	// the rows they share in the same order and cannot deadlock.
	order := make([]int, 0, len(ids))
	seen := make(map[index.ItemID]bool, len(ids))
	maxID := index.ItemID(0)
	for i, id := range ids {
		if !seen[id] {
			seen[id] = true
			order = append(order, i)
			maxID = max(maxID, id)
		}
	}
	if len(order) == 0 {
		return 0, nil
	}
	slices.SortFunc(order, func(a, b int) int { return int(ids[a]) - int(ids[b]) })
	rows := make([][]any, len(order))
	for r, i := range order {
		rows[r] = []any{int64(ids[i]), pgvector.NewVector(s.prepared(vectors[i*s.dim : (i+1)*s.dim]))}
	}

	err = retry(ctx, func() error {
		added = 0
		return pgx.BeginFunc(ctx, s.st.pool, func(tx pgx.Tx) error {
			var items int64
			if err := tx.QueryRow(ctx, "SELECT items FROM simsearch.meta").Scan(&items); err != nil {
				return err
			}
			if int64(maxID) >= items {
				return fmt.Errorf("item %d: %w (the database holds %d items)", maxID, index.ErrNoItem, items)
			}
			if _, err := tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS simsearch_stage (item_id bigint, embedding vector) ON COMMIT DELETE ROWS"); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"simsearch_stage"}, []string{"item_id", "embedding"}, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO `+s.table+` (item_id, split, set_id, grp, labels, embedding)
				SELECT t.item_id, i.split, i.set_id, i.grp, i.labels, t.embedding FROM simsearch_stage t
				JOIN simsearch.items i ON i.id = t.item_id ORDER BY t.item_id
				ON CONFLICT (item_id) DO NOTHING`)
			if err != nil {
				return err
			}
			added = int(tag.RowsAffected())
			if added > 0 {
				if _, err := tx.Exec(ctx, "UPDATE simsearch.spaces SET vectors = vectors + $1 WHERE id = $2", added, s.id); err != nil {
					return err
				}
			}
			return inTransaction(ctx, "vectors")
		})
	})
	if err != nil {
		return 0, fmt.Errorf("add vectors to space %q in %s: %w", s.name, s.st.path, s.wrapSpace(err))
	}
	return added, nil
}

// wrapSpace is Store.wrap that also reads a missing table as a deleted
// space.
func (s *Space) wrapSpace(err error) error {
	if sqlState(err) == codeUndefinedTable {
		return fmt.Errorf("space %q: %w (deleted meanwhile)", s.name, index.ErrNoSpace)
	}
	return s.st.wrap(err)
}

// Vector returns item id's vector as stored (unit length in a Cosine
// space), or an error wrapping index.ErrNoItem when it has none here.
func (s *Space) Vector(id index.ItemID) ([]float32, error) {
	ctx, cancel := quick()
	defer cancel()
	out, err := s.Vectors(ctx, []index.ItemID{id})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Vectors returns the stored vectors of ids, one after another, read in
// one query. An item without a vector here wraps index.ErrNoItem.
func (s *Space) Vectors(ctx context.Context, ids []index.ItemID) ([]float32, error) {
	if err := s.st.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.st.pool.Query(ctx, `SELECT u.o, v.embedding FROM unnest($1::bigint[]) WITH ORDINALITY AS u(x, o)
		JOIN `+s.table+` v ON v.item_id = u.x`, int64s(ids))
	if err != nil {
		return nil, s.wrapSpace(err)
	}
	out := make([]float32, len(ids)*s.dim)
	got := make([]bool, len(ids))
	var (
		o int64
		v pgvector.Vector
	)
	_, err = pgx.ForEachRow(rows, []any{&o, &v}, func() error {
		copy(out[(o-1)*int64(s.dim):], v.Slice())
		got[o-1] = true
		return nil
	})
	if err != nil {
		return nil, s.wrapSpace(err)
	}
	for i, ok := range got {
		if !ok {
			return nil, fmt.Errorf("item %d in space %q: %w", ids[i], s.name, index.ErrNoItem)
		}
	}
	return out, nil
}

// Load makes the space ready to search: in a writable store it builds the
// HNSW index if the space has vectors and none (see SaveGraph). A
// read-only store searches an unindexed space exactly.
func (s *Space) Load(ctx context.Context) error {
	s.mu.Lock()
	loaded := s.loaded
	s.mu.Unlock()
	if loaded {
		return nil
	}
	if !s.st.ReadOnly() {
		if err := s.SaveGraph(ctx); err != nil {
			return err
		}
	}
	// Remember only an index that exists: vectors added to an empty
	// space later still get one at the next Load.
	if _, indexed, _, err := s.state(ctx); err != nil {
		return err
	} else if indexed {
		s.mu.Lock()
		s.loaded = true
		s.mu.Unlock()
	}
	return nil
}

// SaveGraph builds the space's HNSW index when it has vectors and no
// index yet; afterwards PostgreSQL keeps the index up to date as vectors
// are added. Options.Progress hears of the build (stage "build") from the
// server's progress view. The build is fast while the graph fits in the
// session's maintenance_work_mem (set it in the target:
// ?maintenance_work_mem=2GB) and uses max_parallel_maintenance_workers.
func (s *Space) SaveGraph(ctx context.Context) error {
	if err := s.st.checkWritable(); err != nil {
		return fmt.Errorf("save graph: %w", err)
	}
	if s.dim > maxIndexedDim {
		return nil
	}
	vectors, indexed, _, err := s.state(ctx)
	if err != nil || indexed || vectors == 0 {
		return err
	}
	err = pgx.BeginFunc(ctx, s.st.pool, func(tx pgx.Tx) error {
		// Builders of one space take turns; the second finds it built.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('simsearch index'), $1)", s.id); err != nil {
			return err
		}
		var pid uint32
		if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return err
		}
		stop := s.watchBuild(pid, vectors)
		defer stop()
		_, err := tx.Exec(ctx, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING hnsw (embedding vector_l2_ops) WITH (m = %d, ef_construction = %d)",
			s.hnswIndex, s.table, s.graph.M, s.graph.EfConstruction))
		return err
	})
	if err != nil {
		return fmt.Errorf("build the HNSW index of space %q in %s: %w", s.name, s.st.path, s.wrapSpace(err))
	}
	s.st.progress("save", s.name, vectors, vectors)
	return nil
}

// watchBuild reports an index build's progress, read from
// pg_stat_progress_create_index every second, until stop is called.
func (s *Space) watchBuild(pid uint32, total int) (stop func()) {
	if s.st.opts.Progress == nil {
		return func() {}
	}
	s.st.progress("build", s.name, 0, total)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var n *int64
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := s.st.pool.QueryRow(ctx, "SELECT tuples_done FROM pg_stat_progress_create_index WHERE pid = $1", pid).Scan(&n)
			cancel()
			if err == nil && n != nil {
				s.st.progress("build", s.name, int(*n), total)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// progress calls Options.Progress, if set.
func (st *Store) progress(stage, space string, done, total int) {
	if st.opts.Progress != nil {
		st.opts.Progress(index.Progress{Stage: stage, Space: space, Done: int64(done), Total: int64(total)})
	}
}

var _ index.SpaceStore = (*Space)(nil)
