package index

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"unicode"

	"simsearch/index/hnsw"

	bolt "go.etcd.io/bbolt"
)

// Metric is the distance a space's graph orders neighbours by. Searches
// always report Euclidean distances (the SPEC's diameters and margins are
// Euclidean); for Cosine the vectors are normalized when stored and
// queried, and ‖u − v‖ = sqrt(2(1 − u·v)).
type Metric uint8

const (
	// Cosine normalizes vectors to unit length and orders by 1 − u·v. It
	// is the default (the zero Metric in a SpaceConfig means Cosine).
	Cosine Metric = 1
	// Euclidean keeps vectors as they are and orders by ‖u − v‖.
	Euclidean Metric = 2
)

// String returns "cosine" or "euclidean".
func (m Metric) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case Euclidean:
		return "euclidean"
	}
	return fmt.Sprintf("metric(%d)", uint8(m))
}

// MarshalText writes the metric's name, for JSON.
func (m Metric) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads a metric's name, for JSON.
func (m *Metric) UnmarshalText(b []byte) error {
	v, err := ParseMetric(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseMetric returns the metric named s ("cosine" or "euclidean").
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "cosine":
		return Cosine, nil
	case "euclidean":
		return Euclidean, nil
	}
	return 0, fmt.Errorf("%w: metric %q: want cosine or euclidean", ErrInvalid, s)
}

func (m Metric) hnsw() hnsw.Metric {
	if m == Euclidean {
		return hnsw.Euclidean
	}
	return hnsw.Cosine
}

// GraphConfig holds a space's HNSW parameters. Zero fields take the
// defaults of DefaultGraphConfig. It is a plain value.
type GraphConfig struct {
	// M is the number of links per node and layer (2·M on the bottom
	// layer). Default 16.
	M int `json:"m"`
	// EfConstruction is the search breadth when inserting. Default 200.
	EfConstruction int `json:"ef_construction"`
	// EfSearch is the search breadth of queries that do not give one.
	// Default 96: recall@10 ≥ 0.95 up to 1,000,000 vectors of 128
	// dimensions (64 gives 0.99 at 100,000 but 0.94 at 1,000,000).
	EfSearch int `json:"ef_search"`
	// Seed decides node levels (see hnsw.Graph.Seed). Default 0.
	Seed uint64 `json:"seed"`
}

// DefaultGraphConfig returns M 16, EfConstruction 200, EfSearch 96, Seed 0.
func DefaultGraphConfig() GraphConfig {
	return GraphConfig{M: 16, EfConstruction: 200, EfSearch: 96}
}

func (c GraphConfig) withDefaults() GraphConfig {
	d := DefaultGraphConfig()
	c.M = cmp.Or(c.M, d.M)
	c.EfConstruction = cmp.Or(c.EfConstruction, d.EfConstruction)
	c.EfSearch = cmp.Or(c.EfSearch, d.EfSearch)
	return c
}

// Encoder is the encoder of a space, stored with it so that the space can
// embed new queries by itself. The index does not interpret it: the
// encoder package decodes Checkpoint. It is a plain value; CreateSpace
// copies the checkpoint into the file and Space.Encoder returns a new copy.
type Encoder struct {
	// ID identifies the encoder, such as the SHA-256 of its checkpoint in
	// hexadecimal. Vectors of a space all come from the encoder with this
	// ID (see Space.CheckEncoder). Required.
	ID string `json:"id"`
	// Description is a human label ("contrastive, augmentation A, 64 px").
	Description string `json:"description,omitempty"`
	// Resolution is the image side length the encoder expects, in pixels.
	Resolution int `json:"resolution,omitempty"`
	// Checkpoint is the encoder's checkpoint file, stored as it is.
	Checkpoint []byte `json:"-"`
}

// SpaceConfig describes a space to CreateSpace: a plain value, read once.
type SpaceConfig struct {
	// Name names the space: 1 to 64 printable characters.
	Name string
	// Dim is the dimension of its vectors, 1 to 65536.
	Dim int
	// Metric is the graph's distance; zero means Cosine.
	Metric Metric
	// Graph holds the HNSW parameters; zero fields take defaults.
	Graph GraphConfig
	// Encoder is the encoder the vectors come from.
	Encoder Encoder
}

// Bucket and key names inside a space's bucket.
var (
	keySpaceConfig = []byte("config")
	bucketEncoder  = []byte("encoder")
	bucketVectors  = []byte("vectors")
	bucketGraph    = []byte("graph")
)

const (
	maxSpaceName  = 64
	maxDim        = 1 << 16
	maxEncoderLen = 1 << 32
)

// spaceRecordVersion is the first byte of a space's config record.
//
// Layout (v1): version; dim (uvarint); metric (1 byte); M, EfConstruction,
// EfSearch (uvarints); seed (8 bytes big-endian); encoder ID, description
// (uvarint length, bytes); resolution (uvarint); checkpoint length
// (uvarint); vector count (uvarint).
const spaceRecordVersion = 1

// spaceRecord is a space's stored configuration.
type spaceRecord struct {
	dim         int
	metric      Metric
	graph       GraphConfig
	encoderID   string
	description string
	resolution  int
	encoderSize int64
	vectors     int
}

func (r *spaceRecord) encode() []byte {
	b := []byte{spaceRecordVersion}
	b = binary.AppendUvarint(b, uint64(r.dim))
	b = append(b, byte(r.metric))
	b = binary.AppendUvarint(b, uint64(r.graph.M))
	b = binary.AppendUvarint(b, uint64(r.graph.EfConstruction))
	b = binary.AppendUvarint(b, uint64(r.graph.EfSearch))
	b = binary.BigEndian.AppendUint64(b, r.graph.Seed)
	b = appendString(b, r.encoderID)
	b = appendString(b, r.description)
	b = binary.AppendUvarint(b, uint64(r.resolution))
	b = binary.AppendUvarint(b, uint64(r.encoderSize))
	b = binary.AppendUvarint(b, uint64(r.vectors))
	return b
}

func decodeSpaceRecord(b []byte) (spaceRecord, error) {
	if len(b) == 0 || b[0] != spaceRecordVersion {
		v := -1
		if len(b) > 0 {
			v = int(b[0])
		}
		return spaceRecord{}, fmt.Errorf("%w: space record version %d, this build reads %d", ErrCorrupt, v, spaceRecordVersion)
	}
	r := recordReader{b: b[1:]}
	var s spaceRecord
	s.dim = int(r.uvarint())
	metric := r.bytes(1)
	s.graph.M = int(r.uvarint())
	s.graph.EfConstruction = int(r.uvarint())
	s.graph.EfSearch = int(r.uvarint())
	seed := r.bytes(8)
	s.encoderID = string(r.stringBytes(1 << 16))
	s.description = string(r.stringBytes(1 << 16))
	s.resolution = int(r.uvarint())
	s.encoderSize = int64(r.uvarint())
	s.vectors = int(r.uvarint())
	if r.err != nil || len(r.b) != 0 {
		return spaceRecord{}, fmt.Errorf("%w: space record", ErrCorrupt)
	}
	s.metric = Metric(metric[0])
	s.graph.Seed = binary.BigEndian.Uint64(seed)
	if s.dim < 1 || s.dim > maxDim || (s.metric != Cosine && s.metric != Euclidean) ||
		s.graph.M < 2 || s.graph.M > 1024 || s.graph.EfConstruction < 1 || s.graph.EfSearch < 1 ||
		s.vectors < 0 || s.vectors > math.MaxUint32 {
		return spaceRecord{}, fmt.Errorf("%w: space record with dimension %d, metric %d, M %d, %d vectors", ErrCorrupt, s.dim, s.metric, s.graph.M, s.vectors)
	}
	return s, nil
}

// Space is a named set of vectors in a DB, one per item at most, from one
// encoder, with an HNSW graph over them.
//
// Concurrency: a Space is safe for concurrent use. Searches run in
// parallel with each other; AddVectors, Load and SaveGraph are serialized
// with the DB's other writes, and an insertion into the graph makes
// searches wait until the batch is in.
type Space struct {
	db   *DB
	name string

	mu  sync.RWMutex // guards the fields below
	rec spaceRecord
	// nodeItem[n] is the item whose vector is node n of the graph, in the
	// order vectors were stored; itemNode is its inverse (noNode when the
	// item has no vector here).
	nodeItem []uint32
	itemNode []uint32
	graph    *hnsw.Graph // nil until loaded
	// saved is the number of nodes the stored graph covers.
	saved      int
	savedBytes int64
	dirty      bool

	selMu      sync.Mutex
	selections map[string]*selection
}

const noNode = math.MaxUint32

// CreateSpace creates a space, or opens it if it exists with the same
// encoder ID, dimension and metric (so that an interrupted ingestion can
// resume). An existing space with another encoder is an error wrapping
// ErrEncoderMismatch.
func (db *DB) CreateSpace(ctx context.Context, cfg SpaceConfig) (*Space, error) {
	if err := db.checkWritable(); err != nil {
		return nil, fmt.Errorf("create space: %w", err)
	}
	if err := checkSpaceName(cfg.Name); err != nil {
		return nil, err
	}
	cfg.Metric = cmp.Or(cfg.Metric, Cosine)
	cfg.Graph = cfg.Graph.withDefaults()
	switch {
	case cfg.Dim < 1 || cfg.Dim > maxDim:
		return nil, fmt.Errorf("create space %q: %w: dimension %d, want 1 to %d", cfg.Name, ErrInvalid, cfg.Dim, maxDim)
	case cfg.Metric != Cosine && cfg.Metric != Euclidean:
		return nil, fmt.Errorf("create space %q: %w: unknown metric %d", cfg.Name, ErrInvalid, cfg.Metric)
	case cfg.Graph.M < 2 || cfg.Graph.M > 1024 || cfg.Graph.EfConstruction < 1 || cfg.Graph.EfSearch < 1:
		return nil, fmt.Errorf("create space %q: %w: graph parameters %+v", cfg.Name, ErrInvalid, cfg.Graph)
	case cfg.Encoder.ID == "" || len(cfg.Encoder.ID) > 1024:
		return nil, fmt.Errorf("create space %q: %w: the encoder needs an ID", cfg.Name, ErrInvalid)
	case len(cfg.Encoder.Description) > 4096 || cfg.Encoder.Resolution < 0:
		return nil, fmt.Errorf("create space %q: %w: encoder description or resolution", cfg.Name, ErrInvalid)
	case int64(len(cfg.Encoder.Checkpoint)) >= maxEncoderLen:
		return nil, fmt.Errorf("create space %q: %w: checkpoint of %d bytes", cfg.Name, ErrInvalid, len(cfg.Encoder.Checkpoint))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()

	if s, err := db.Space(cfg.Name); err == nil {
		rec := s.record()
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
	}
	err := db.update(func(tx *bolt.Tx) error {
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

// readNodes reads which item each stored vector belongs to, in node
// order, from the vector chunks (their id sections only).
func (s *Space) readNodes(b *bolt.Bucket) error {
	vb := b.Bucket(bucketVectors)
	if vb == nil {
		return fmt.Errorf("%w: vectors bucket missing", ErrCorrupt)
	}
	s.nodeItem = make([]uint32, 0, s.rec.vectors)
	cur := vb.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		ids, _, err := s.splitChunk(k, v, len(s.nodeItem))
		if err != nil {
			return err
		}
		for i := 0; i < len(ids); i += 4 {
			s.nodeItem = append(s.nodeItem, binary.LittleEndian.Uint32(ids[i:]))
		}
	}
	if len(s.nodeItem) != s.rec.vectors {
		return fmt.Errorf("%w: %d vectors stored, %d counted", ErrCorrupt, len(s.nodeItem), s.rec.vectors)
	}
	s.itemNode = nil
	for node, item := range s.nodeItem {
		if err := s.setItemNode(item, uint32(node)); err != nil {
			return err
		}
	}
	return nil
}

// setItemNode records that item's vector is node.
func (s *Space) setItemNode(item, node uint32) error {
	if int(item) >= len(s.itemNode) {
		grown := make([]uint32, max(int(item)+1, len(s.itemNode)*5/4+1024))
		copy(grown, s.itemNode)
		for i := len(s.itemNode); i < len(grown); i++ {
			grown[i] = noNode
		}
		s.itemNode = grown
	}
	if s.itemNode[item] != noNode {
		return fmt.Errorf("%w: item %d has two vectors", ErrCorrupt, item)
	}
	s.itemNode[item] = node
	return nil
}

// A vector chunk is stored under the node number of its first vector (4
// bytes big-endian) and holds count item ids (uint32 little-endian) then
// count vectors (float32 little-endian).
func vectorChunkKey(first int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(first)) }

// splitChunk checks a vector chunk that should start at node first and
// returns its id and vector sections.
func (s *Space) splitChunk(k, v []byte, first int) (ids, vectors []byte, err error) {
	if len(k) != 4 || int(binary.BigEndian.Uint32(k)) != first {
		return nil, nil, fmt.Errorf("%w: vector chunk %x where node %d should start", ErrCorrupt, k, first)
	}
	per := 4 + 4*s.rec.dim
	if len(v) == 0 || len(v)%per != 0 {
		return nil, nil, fmt.Errorf("%w: vector chunk of %d bytes for dimension %d", ErrCorrupt, len(v), s.rec.dim)
	}
	count := len(v) / per
	return v[:4*count], v[4*count:], nil
}

// record returns a copy of the space's configuration.
func (s *Space) record() spaceRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rec
}

// Name returns the space's name.
func (s *Space) Name() string { return s.name }

// Dim returns the dimension of the space's vectors.
func (s *Space) Dim() int { return s.record().dim }

// Metric returns the space's metric.
func (s *Space) Metric() Metric { return s.record().metric }

// Graph returns the space's HNSW parameters.
func (s *Space) Graph() GraphConfig { return s.record().graph }

// Len returns the number of vectors in the space.
func (s *Space) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.nodeItem)
}

// Has reports whether item id has a vector in the space.
func (s *Space) Has(id ItemID) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(id) < len(s.itemNode) && s.itemNode[id] != noNode
}

// Missing returns the ids among ids that have no vector in the space yet,
// in order: what an interrupted ingestion still has to embed.
func (s *Space) Missing(ids []ItemID) []ItemID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []ItemID
	for _, id := range ids {
		if int(id) >= len(s.itemNode) || s.itemNode[id] == noNode {
			out = append(out, id)
		}
	}
	return out
}

// Items returns the ids of the items with a vector in the space, in the
// order their vectors were added.
func (s *Space) Items() []ItemID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ItemID, len(s.nodeItem))
	for i, id := range s.nodeItem {
		out[i] = ItemID(id)
	}
	return out
}

// Encoder returns the space's encoder, with a copy of its checkpoint.
func (s *Space) Encoder() (Encoder, error) {
	if err := s.db.checkOpen(); err != nil {
		return Encoder{}, err
	}
	rec := s.record()
	e := Encoder{ID: rec.encoderID, Description: rec.description, Resolution: rec.resolution}
	err := s.db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSpaces).Bucket([]byte(s.name))
		if b == nil {
			return fmt.Errorf("space %q: %w", s.name, ErrNoSpace)
		}
		data, err := readBlob(b.Bucket(bucketEncoder))
		if err != nil {
			return fmt.Errorf("encoder of space %q: %w", s.name, err)
		}
		e.Checkpoint = data
		return nil
	})
	return e, err
}

// CheckEncoder returns an error wrapping ErrEncoderMismatch unless id is
// the ID of the space's encoder. Call it before adding or querying vectors
// computed by an encoder the space did not supply.
func (s *Space) CheckEncoder(id string) error {
	if want := s.record().encoderID; id != want {
		return fmt.Errorf("space %q: %w: its vectors come from encoder %s, these from %s", s.name, ErrEncoderMismatch, want, id)
	}
	return nil
}

// checkVectors validates count vectors of the space's dimension stored
// one after another in flat.
func (s *Space) checkVectors(flat []float32, count int) error {
	dim := s.record().dim
	if len(flat) != count*dim {
		return fmt.Errorf("%w: %d values for %d vectors of dimension %d", ErrInvalid, len(flat), count, dim)
	}
	metric := s.record().metric
	for i := range count {
		v := flat[i*dim : (i+1)*dim]
		var norm float64
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: vector %d holds %v", ErrInvalid, i, x)
			}
			norm += float64(x) * float64(x)
		}
		if metric == Cosine && norm == 0 {
			return fmt.Errorf("%w: vector %d is zero and cannot be normalized", ErrInvalid, i)
		}
	}
	return nil
}

// normalized returns v scaled to unit length for Cosine spaces, written
// into dst (reused when large enough), or v itself for Euclidean ones.
func (s *Space) normalized(v, dst []float32, metric Metric) []float32 {
	if metric != Cosine {
		return v
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	scale := float32(1 / math.Sqrt(norm))
	dst = slices.Grow(dst[:0], len(v))
	for _, x := range v {
		dst = append(dst, x*scale)
	}
	return dst
}

// vectorsPerChunk is how many vectors one stored chunk holds: about
// 1 MiB.
func vectorsPerChunk(dim int) int { return max(1, (1<<20)/(4+4*dim)) }

// AddVectors stores the vectors of items ids (vectors holds len(ids)
// vectors of Dim values one after another) in one transaction, and
// inserts them into the graph if it is loaded. Items that already have a
// vector in the space, and repeated ids, are skipped, so an interrupted
// ingestion can send a batch again; added counts the new ones. An id the
// database does not hold wraps ErrNoItem; a vector of the wrong length,
// with a NaN or infinity, or zero in a Cosine space wraps ErrInvalid.
//
// When the graph is not loaded, AddVectors only stores the vectors: the
// next Load or SaveGraph inserts them, which is faster for a bulk
// ingestion than loading the graph first. The caller has checked the
// encoder (CheckEncoder).
func (s *Space) AddVectors(ctx context.Context, ids []ItemID, vectors []float32) (added int, err error) {
	db := s.db
	if err := db.checkWritable(); err != nil {
		return 0, fmt.Errorf("add vectors: %w", err)
	}
	if err := s.checkVectors(vectors, len(ids)); err != nil {
		return 0, fmt.Errorf("add vectors to space %q: %w", s.name, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if err := db.checkOpen(); err != nil {
		return 0, err
	}
	items := db.Len()

	s.mu.RLock()
	rec := s.rec
	dim := rec.dim
	first := len(s.nodeItem)
	var newIDs []uint32
	var newVectors []float32
	seen := map[ItemID]bool{}
	for i, id := range ids {
		if int(id) >= items {
			s.mu.RUnlock()
			return 0, fmt.Errorf("add vectors to space %q: item %d: %w (the database holds %d items)", s.name, id, ErrNoItem, items)
		}
		if (int(id) < len(s.itemNode) && s.itemNode[id] != noNode) || seen[id] {
			continue
		}
		seen[id] = true
		newIDs = append(newIDs, uint32(id))
		v := vectors[i*dim : (i+1)*dim]
		if rec.metric == Cosine {
			newVectors = append(newVectors, s.normalized(v, nil, Cosine)...)
		} else {
			newVectors = append(newVectors, v...)
		}
	}
	s.mu.RUnlock()
	if len(newIDs) == 0 {
		return 0, nil
	}
	if first+len(newIDs) > math.MaxUint32-1 {
		return 0, fmt.Errorf("add vectors to space %q: more than 2³² vectors", s.name)
	}

	rec.vectors = first + len(newIDs)
	err = db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSpaces).Bucket([]byte(s.name))
		if b == nil {
			return fmt.Errorf("space %q: %w", s.name, ErrNoSpace)
		}
		vb := b.Bucket(bucketVectors)
		per := vectorsPerChunk(dim)
		for start := 0; start < len(newIDs); start += per {
			end := min(start+per, len(newIDs))
			chunk := make([]byte, 0, (end-start)*(4+4*dim))
			for _, id := range newIDs[start:end] {
				chunk = binary.LittleEndian.AppendUint32(chunk, id)
			}
			for _, x := range newVectors[start*dim : end*dim] {
				chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(x))
			}
			if err := vb.Put(vectorChunkKey(first+start), chunk); err != nil {
				return err
			}
		}
		inTransaction("vectors")
		return b.Put(keySpaceConfig, rec.encode())
	})
	if err != nil {
		return 0, fmt.Errorf("add vectors to space %q in %s: %w", s.name, db.path, err)
	}

	s.mu.Lock()
	s.rec = rec
	for i, id := range newIDs {
		s.nodeItem = append(s.nodeItem, id)
		if err := s.setItemNode(id, uint32(first+i)); err != nil {
			s.mu.Unlock()
			return 0, err
		}
	}
	if s.graph != nil {
		s.graph.AddBatch(newVectors, db.opts.Workers)
		s.dirty = true
	}
	s.invalidateSelections()
	autosave := s.graph != nil && s.graph.Len()-s.saved >= max(s.saved, 10000)
	s.mu.Unlock()

	if autosave {
		// Save when the unsaved part has grown as large as the saved one:
		// a crash then costs at most half the insertions, and the total
		// written stays within twice the final graph.
		if err := s.saveGraphLocked(ctx); err != nil {
			return len(newIDs), err
		}
	}
	return len(newIDs), nil
}

// Vector returns a copy of item id's vector as stored (unit length in a
// Cosine space), or an error wrapping ErrNoItem when it has none here.
func (s *Space) Vector(id ItemID) ([]float32, error) {
	s.mu.RLock()
	if int(id) >= len(s.itemNode) || s.itemNode[id] == noNode {
		s.mu.RUnlock()
		return nil, fmt.Errorf("item %d in space %q: %w", id, s.name, ErrNoItem)
	}
	node := s.itemNode[id]
	if s.graph != nil {
		v := slices.Clone(s.graph.Vector(node))
		s.mu.RUnlock()
		return v, nil
	}
	dim := s.rec.dim
	s.mu.RUnlock()
	var out []float32
	err := s.db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSpaces).Bucket([]byte(s.name))
		if b == nil {
			return fmt.Errorf("space %q: %w", s.name, ErrNoSpace)
		}
		cur := b.Bucket(bucketVectors).Cursor()
		k, v := cur.Seek(vectorChunkKey(int(node)))
		switch {
		case k == nil:
			k, v = cur.Last()
		case binary.BigEndian.Uint32(k) > node:
			k, v = cur.Prev()
		}
		if k == nil {
			return fmt.Errorf("%w: vector of node %d missing", ErrCorrupt, node)
		}
		first := int(binary.BigEndian.Uint32(k))
		_, vecs, err := s.splitChunk(k, v, first)
		if err != nil {
			return err
		}
		off := (int(node) - first) * dim * 4
		if off < 0 || off+dim*4 > len(vecs) {
			return fmt.Errorf("%w: vector of node %d missing", ErrCorrupt, node)
		}
		out = decodeFloats(vecs[off:off+dim*4], make([]float32, 0, dim))
		return nil
	})
	return out, err
}

// Vectors returns copies of the stored vectors of ids, one after another
// (unit length in a Cosine space), loading the space if needed. An item
// without a vector here is an error wrapping ErrNoItem.
func (s *Space) Vectors(ctx context.Context, ids []ItemID) ([]float32, error) {
	if err := s.Load(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]float32, 0, len(ids)*s.rec.dim)
	for _, id := range ids {
		if int(id) >= len(s.itemNode) || s.itemNode[id] == noNode {
			return nil, fmt.Errorf("item %d in space %q: %w", id, s.name, ErrNoItem)
		}
		out = append(out, s.graph.Vector(s.itemNode[id])...)
	}
	return out, nil
}

// decodeFloats appends the little-endian float32s in b to dst.
func decodeFloats(b []byte, dst []float32) []float32 {
	for i := 0; i+4 <= len(b); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return dst
}
