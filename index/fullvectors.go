package index

import (
	"encoding/binary"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// vectorView gives a search the space's vectors in full precision, node by
// node: for a Float32 space the graph's own, for an Int8 space the stored
// vector chunks, read in place in bbolt's mapping of the file (so they take
// no memory of their own, and are valid only inside the read transaction
// that found them).
type vectorView struct {
	dim    int
	cosine bool
	starts []uint32    // first node of each segment, ascending; starts[0] is 0
	segs   [][]float32 // segment i holds nodes starts[i], starts[i]+1, …
}

// at returns node's vector.
func (v *vectorView) at(node uint32) []float32 {
	i := v.segment(node)
	off := int(node-v.starts[i]) * v.dim
	return v.segs[i][off : off+v.dim : off+v.dim]
}

// segment returns the index of the last segment starting at or before
// node.
func (v *vectorView) segment(node uint32) int {
	lo, hi := 0, len(v.starts)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if v.starts[mid] <= node {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// viewCursor reads a view's vectors in mostly ascending node order, as a
// scan does: it keeps the segment of the last node, so that each read
// checks that segment and the next before it searches them all.
type viewCursor struct {
	v   *vectorView
	seg int
}

// at returns node's vector, as vectorView.at does.
func (c *viewCursor) at(node uint32) []float32 {
	v, i := c.v, c.seg
	switch {
	case node >= v.starts[i] && (i+1 == len(v.starts) || node < v.starts[i+1]):
	case i+1 < len(v.starts) && node >= v.starts[i+1] && (i+2 == len(v.starts) || node < v.starts[i+2]):
		i++
	default:
		i = v.segment(node)
	}
	c.seg = i
	off := int(node-v.starts[i]) * v.dim
	return v.segs[i][off : off+v.dim : off+v.dim]
}

// span calls fn with the consecutive runs of the vectors of nodes [lo, hi):
// first node and their values.
func (v *vectorView) span(lo, hi int, fn func(first int, values []float32)) {
	for i, start := range v.starts {
		segStart := int(start)
		segEnd := segStart + len(v.segs[i])/v.dim
		from, to := max(lo, segStart), min(hi, segEnd)
		if from < to {
			fn(from, v.segs[i][(from-segStart)*v.dim:(to-segStart)*v.dim])
		}
	}
}

// withVectors calls fn with the space's vectors in full precision. The
// caller holds s.mu for reading and the graph is loaded. For an Int8 space
// fn runs inside a read transaction: it must not write to the database.
func (s *Space) withVectors(fn func(v *vectorView) error) error {
	if !s.rec.storage.quantized() {
		return fn(&vectorView{dim: s.rec.dim, cosine: s.rec.metric == Cosine, starts: []uint32{0}, segs: [][]float32{s.graph.Vectors()}})
	}
	return s.db.view(func(tx *bolt.Tx) error {
		v, err := s.fileVectors(tx)
		if err != nil {
			return err
		}
		return fn(v)
	})
}

// viewKey says which snapshot of the file, mapped where, a view of the
// stored vectors was made in.
type viewKey struct {
	txid int     // the committed transaction the read sees
	base uintptr // the start of bbolt's mapping of the file
}

// fileVectors returns the view of the stored vectors in tx, made again
// when tx sees another snapshot or another mapping than the last view: a
// commit may move the chunks (bbolt copies a leaf page on write, values and
// all) and a growing file is mapped again, while a read of the same
// snapshot in the same mapping finds the same pages, which bbolt keeps
// unchanged while any transaction of that snapshot is open.
func (s *Space) fileVectors(tx *bolt.Tx) (*vectorView, error) {
	s.viewMu.Lock()
	defer s.viewMu.Unlock()
	key := viewKey{txid: tx.ID(), base: s.db.bolt.Info().Data}
	if s.fileView != nil && s.fileViewKey == key {
		return s.fileView, nil
	}
	b := tx.Bucket(bucketSpaces).Bucket([]byte(s.name))
	if b == nil {
		return nil, ErrNoSpace
	}
	v := &vectorView{dim: s.rec.dim, cosine: s.rec.metric == Cosine}
	err := s.vectorChunks(b.Bucket(bucketVectors), func(first int, _, vecs []byte) error {
		v.starts = append(v.starts, uint32(first))
		v.segs = append(v.segs, floatsInPlace(vecs))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(v.starts) == 0 {
		v.starts, v.segs = []uint32{0}, [][]float32{nil}
	}
	s.fileView, s.fileViewKey = v, key
	return v, nil
}

// littleEndian reports whether float32s in memory have the stored byte
// order.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// floatsInPlace returns the little-endian float32s of b as a slice over
// b's memory when the machine's byte order and b's alignment allow, or a
// decoded copy.
func floatsInPlace(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if littleEndian && uintptr(p)%unsafe.Alignof(float32(0)) == 0 {
		return unsafe.Slice((*float32)(p), len(b)/4)
	}
	return decodeFloats(b, make([]float32, 0, len(b)/4))
}
