package index

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"simsearch/index/hnsw"
	"simsearch/internal/hugepages"

	bolt "go.etcd.io/bbolt"
)

// The stored graph is a cache of the vectors, which stay the source of
// truth: a blob (see blob.go) holding hnsw.Graph.Export's encoding, whose
// header carries a CRC-32C and, in its extra bytes, graphCacheVersion, the
// number of nodes it covers (the first nodes of the space, in storage
// order) and the parameters it was built with, and for an Int8 space the
// quantizer its codes were made with. Loading imports it and inserts the
// vectors stored after it; a cache that is missing, damaged, of another
// version or built with other parameters is rebuilt from the vectors (and
// an Int8 space's quantizer fitted to them again).
const (
	graphCacheVersion          = 1
	graphCacheVersionQuantized = 2
)

// graphExtra is the graph blob's extra header.
//
// Layout (v1): version (1 byte), nodes (8, big-endian), dim (4), M (4),
// EfConstruction (4), seed (8), metric (1).
//
// Layout (v2, Int8 spaces): v1's, then the storage (1 byte) and the
// quantizer: dim minima then dim scales (float32 bits, 4 bytes each,
// big-endian).
type graphExtra struct {
	nodes   int
	dim     int
	m       int
	efc     int
	seed    uint64
	metric  Metric
	storage Storage
	quant   *hnsw.Quantizer // nil for Float32
}

func (g graphExtra) encode() []byte {
	version := byte(graphCacheVersion)
	if g.storage.quantized() {
		version = graphCacheVersionQuantized
	}
	b := []byte{version}
	b = binary.BigEndian.AppendUint64(b, uint64(g.nodes))
	b = binary.BigEndian.AppendUint32(b, uint32(g.dim))
	b = binary.BigEndian.AppendUint32(b, uint32(g.m))
	b = binary.BigEndian.AppendUint32(b, uint32(g.efc))
	b = binary.BigEndian.AppendUint64(b, g.seed)
	b = append(b, byte(g.metric))
	if version == graphCacheVersionQuantized && g.quant != nil {
		// An empty Int8 graph has no quantizer yet: its header fails to
		// decode and the (empty) graph is built again.
		b = append(b, byte(g.storage))
		for _, x := range g.quant.Min {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(x))
		}
		for _, x := range g.quant.Scale {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return b
}

func decodeGraphExtra(b []byte) (graphExtra, error) {
	if len(b) < 30 || (b[0] != graphCacheVersion && b[0] != graphCacheVersionQuantized) ||
		(b[0] == graphCacheVersion && len(b) != 30) {
		return graphExtra{}, fmt.Errorf("%w: graph cache header of another version", ErrCorrupt)
	}
	g := graphExtra{
		nodes:   int(binary.BigEndian.Uint64(b[1:])),
		dim:     int(binary.BigEndian.Uint32(b[9:])),
		m:       int(binary.BigEndian.Uint32(b[13:])),
		efc:     int(binary.BigEndian.Uint32(b[17:])),
		seed:    binary.BigEndian.Uint64(b[21:]),
		metric:  Metric(b[29]),
		storage: Float32,
	}
	if b[0] == graphCacheVersion {
		return g, nil
	}
	if len(b) != 31+8*g.dim || Storage(b[30]) != Int8 {
		return graphExtra{}, fmt.Errorf("%w: quantized graph cache header of %d bytes for dimension %d", ErrCorrupt, len(b), g.dim)
	}
	g.storage = Int8
	q := &hnsw.Quantizer{Min: make([]float32, g.dim), Scale: make([]float32, g.dim)}
	for i := range g.dim {
		q.Min[i] = math.Float32frombits(binary.BigEndian.Uint32(b[31+4*i:]))
		q.Scale[i] = math.Float32frombits(binary.BigEndian.Uint32(b[31+4*(g.dim+i):]))
	}
	g.quant = q
	return g, nil
}

// extraFor is the header the graph of rec covering nodes, with quantizer
// quant (nil for Float32), would have.
func extraFor(rec spaceRecord, nodes int, quant *hnsw.Quantizer) graphExtra {
	return graphExtra{nodes: nodes, dim: rec.dim, m: rec.graph.M, efc: rec.graph.EfConstruction, seed: rec.graph.Seed,
		metric: rec.metric, storage: rec.storage, quant: quant}
}

// builtLike reports whether a graph with header g was built the way rec
// builds graphs (the quantizer's ranges aside).
func (g graphExtra) builtLike(rec spaceRecord) bool {
	want := extraFor(rec, g.nodes, nil)
	got := g
	got.quant = nil
	return got == want && (g.storage == Float32) == (g.quant == nil)
}

// newGraph returns an empty graph with rec's parameters, keeping codes of
// quant when not nil.
func newGraph(rec spaceRecord, quant *hnsw.Quantizer) *hnsw.Graph {
	g := hnsw.NewGraph(rec.dim)
	g.Quantizer = quant
	g.M = rec.graph.M
	g.Ml = 1 / math.Log(float64(rec.graph.M))
	g.EfConstruction = rec.graph.EfConstruction
	g.EfSearch = rec.graph.EfSearch
	g.Seed = rec.graph.Seed
	g.Metric = rec.metric.hnsw()
	return g
}

// progress reports to the DB's Progress callback, if any.
func (db *DB) progress(stage, space string, done, total int) {
	if db.opts.Progress != nil {
		db.opts.Progress(Progress{Stage: stage, Space: space, Done: int64(done), Total: int64(total)})
	}
}

// Load reads the space's vectors and graph into memory, bringing the
// graph up to date with the vectors (inserting those stored after the
// saved graph, or rebuilding it when it is missing or damaged), and
// reports progress through Options.Progress. Searches call it on first
// use; call it first to control when the time is spent. A rebuilt or
// extended graph is saved by SaveGraph or Close unless the database is
// ReadOnly.
func (s *Space) Load(ctx context.Context) error {
	if s.loaded() {
		return nil
	}
	if err := s.db.checkOpen(); err != nil {
		return err
	}
	s.db.writeMu.Lock()
	defer s.db.writeMu.Unlock()
	return s.loadLocked(ctx)
}

func (s *Space) loaded() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.graph != nil
}

// loadLocked is Load with the DB's write lock held.
func (s *Space) loadLocked(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.graph != nil {
		return nil
	}
	db := s.db
	rec := s.rec
	n, dim := len(s.nodeItem), rec.dim
	db.progress("load", s.name, 0, n)

	all := hugepages.Make[float32](0, n*dim) // the graph keeps it: see hugepages
	var (
		g       *hnsw.Graph
		covered int
	)
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSpaces).Bucket([]byte(s.name))
		if b == nil {
			return fmt.Errorf("%w", ErrNoSpace)
		}
		// Find the chunks first (touching only the leaf pages that hold
		// them), so that the kernel reads them ahead of the decoding.
		var chunks [][]byte
		stored := 0
		err := s.vectorChunks(b.Bucket(bucketVectors), func(_ int, _, vecs []byte) error {
			if stored += len(vecs) / (4 * dim); stored > n {
				return fmt.Errorf("%w: more vectors stored than counted", ErrCorrupt)
			}
			chunks = append(chunks, vecs)
			return nil
		})
		if err != nil {
			return err
		}
		if stored != n {
			return fmt.Errorf("%w: %d vectors stored, %d counted", ErrCorrupt, stored, n)
		}
		var ra readahead
		for _, c := range chunks {
			ra.add(c)
		}
		gb := b.Bucket(bucketGraph)
		for _, c := range blobChunks(gb) {
			ra.add(c)
		}
		ra.start()
		defer ra.stop()

		for i, vecs := range chunks {
			if i%64 == 63 {
				if err := ctx.Err(); err != nil {
					return err
				}
				db.progress("load", s.name, len(all)/dim, n)
			}
			all = decodeFloats(vecs, all)
		}
		g, covered = s.importGraph(gb, rec, all, n)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load space %q: %w", s.name, err)
	}
	db.progress("load", s.name, n, n)

	if g == nil {
		var quant *hnsw.Quantizer
		if rec.storage.quantized() && n > 0 {
			quant = hnsw.FitQuantizer(all, dim)
		}
		g = newGraph(rec, quant)
		covered = 0
	}
	g.Reserve(n)
	step := max(1024, n/100)
	for start := covered; start < n; start += step {
		if err := ctx.Err(); err != nil {
			return err
		}
		db.progress("build", s.name, start-covered, n-covered)
		end := min(start+step, n)
		g.AddBatch(all[start*dim:end*dim], db.opts.Workers)
	}
	if covered < n {
		db.progress("build", s.name, n-covered, n-covered)
	}
	s.graph = g
	s.dirty = covered < n || s.saved != covered
	return nil
}

// importGraph imports the stored graph of b if it is usable for rec and
// the n vectors in all, returning it and the number of nodes it covers,
// or nil and 0.
func (s *Space) importGraph(b *bolt.Bucket, rec spaceRecord, all []float32, n int) (*hnsw.Graph, int) {
	if b == nil {
		return nil, 0
	}
	r, err := openBlob(b)
	if err != nil {
		return nil, 0
	}
	extra, err := decodeGraphExtra(r.header.extra)
	if err != nil || extra.nodes > n || !extra.builtLike(rec) {
		return nil, 0
	}
	if extra.quant != nil && extra.nodes == 0 {
		return nil, 0 // refit the quantizer to the vectors stored since
	}
	g := newGraph(rec, extra.quant)
	if err := g.Import(r, all[:extra.nodes*rec.dim]); err != nil {
		return nil, 0
	}
	if err := r.verify(); err != nil {
		return nil, 0
	}
	g.EfSearch = rec.graph.EfSearch
	return g, extra.nodes
}

// SaveGraph stores the space's graph if it changed since it was last
// stored, loading (and so building) it first if needed. A database
// opened ReadOnly returns ErrReadOnly.
func (s *Space) SaveGraph(ctx context.Context) error {
	if err := s.db.checkWritable(); err != nil {
		return fmt.Errorf("save graph: %w", err)
	}
	s.db.writeMu.Lock()
	defer s.db.writeMu.Unlock()
	if err := s.db.checkOpen(); err != nil {
		return err
	}
	return s.saveGraphLocked(ctx)
}

// saveGraphLocked is SaveGraph with the DB's write lock held.
func (s *Space) saveGraphLocked(ctx context.Context) error {
	if err := s.loadLocked(ctx); err != nil {
		return err
	}
	s.mu.RLock()
	g, rec, dirty := s.graph, s.rec, s.dirty
	s.mu.RUnlock()
	n := g.Len()
	if !dirty {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	db := s.db
	db.progress("save", s.name, 0, n)
	var size int64
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSpaces).Bucket([]byte(s.name))
		if b == nil {
			return fmt.Errorf("%w", ErrNoSpace)
		}
		if b.Bucket(bucketGraph) != nil {
			if err := b.DeleteBucket(bucketGraph); err != nil {
				return err
			}
		}
		gb, err := b.CreateBucket(bucketGraph)
		if err != nil {
			return err
		}
		w := newBlobWriter(gb)
		if err := g.Export(w); err != nil {
			return err
		}
		size = int64(w.length)
		return w.Close(extraFor(rec, n, g.Quantizer).encode())
	})
	if err != nil {
		return fmt.Errorf("save graph of space %q to %s: %w", s.name, db.path, err)
	}
	s.mu.Lock()
	s.saved, s.savedBytes, s.dirty = n, size, false
	s.mu.Unlock()
	db.progress("save", s.name, n, n)
	return nil
}

// SaveGraphs saves the graphs of the spaces loaded in memory that changed
// (see Space.SaveGraph). Close calls it.
func (db *DB) SaveGraphs(ctx context.Context) error {
	if err := db.checkWritable(); err != nil {
		return fmt.Errorf("save graphs: %w", err)
	}
	db.mu.Lock()
	var spaces []*Space
	for _, s := range db.spaces {
		spaces = append(spaces, s)
	}
	db.mu.Unlock()
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	for _, s := range spaces {
		if !s.loaded() {
			continue
		}
		if err := s.saveGraphLocked(ctx); err != nil {
			return err
		}
	}
	return nil
}
