package index

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"simsearch/index/hnsw"

	bolt "go.etcd.io/bbolt"
)

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
		if rec.storage.quantized() && s.graph.Len() == 0 && s.graph.Quantizer == nil {
			// The graph was loaded empty: fit its quantizer to the first
			// vectors.
			s.graph = newGraph(rec, hnsw.FitQuantizer(newVectors, dim))
		}
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
	if s.graph != nil && !s.rec.storage.quantized() {
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
	err := s.withVectors(func(v *vectorView) error {
		for _, id := range ids {
			if int(id) >= len(s.itemNode) || s.itemNode[id] == noNode {
				return fmt.Errorf("item %d in space %q: %w", id, s.name, ErrNoItem)
			}
			out = append(out, v.at(s.itemNode[id])...)
		}
		return nil
	})
	if err != nil {
		return nil, err
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
