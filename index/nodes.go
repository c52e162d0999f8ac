package index

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// readNodes reads which item each stored vector belongs to, in node
// order, from the vector chunks (their id sections only).
func (s *Space) readNodes(b *bolt.Bucket) error {
	vb := b.Bucket(bucketVectors)
	if vb == nil {
		return fmt.Errorf("%w: vectors bucket missing", ErrCorrupt)
	}
	s.nodeItem = make([]uint32, 0, s.rec.vectors)
	// Find the id sections first, touching only the leaf pages, so that
	// the kernel reads them all at once (see readahead).
	var sections [][]byte
	var ra readahead
	err := s.vectorChunks(vb, func(_ int, ids, _ []byte) error {
		sections = append(sections, ids)
		ra.add(ids)
		return nil
	})
	if err != nil {
		return err
	}
	ra.start()
	defer ra.stop()
	for _, ids := range sections {
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

// vectorChunks calls fn with each vector chunk of bucket vb in node
// order, checked (see splitChunk): the node it starts at, its id section
// and its vector section, both in place in the transaction's pages.
func (s *Space) vectorChunks(vb *bolt.Bucket, fn func(first int, ids, vectors []byte) error) error {
	if vb == nil {
		return fmt.Errorf("%w: vectors bucket missing", ErrCorrupt)
	}
	stored := 0
	cur := vb.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		ids, vectors, err := s.splitChunk(k, v, stored)
		if err != nil {
			return err
		}
		if err := fn(stored, ids, vectors); err != nil {
			return err
		}
		stored += len(ids) / 4
	}
	return nil
}

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
