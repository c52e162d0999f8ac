package index

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Bucket and key names inside a space's bucket.
var (
	keySpaceConfig = []byte("config")
	bucketEncoder  = []byte("encoder")
	bucketVectors  = []byte("vectors")
	bucketGraph    = []byte("graph")
)

// spaceRecordVersion is the first byte of a space's config record.
//
// Layout (v1): version; dim (uvarint); metric (1 byte); M, EfConstruction,
// EfSearch (uvarints); seed (8 bytes big-endian); encoder ID, description
// (uvarint length, bytes); resolution (uvarint); checkpoint length
// (uvarint); vector count (uvarint).
//
// Layout (v2): v1's, then the storage (1 byte). Spaces of Float32 storage
// are written as v1, so that files without quantized spaces stay readable
// by builds that know only v1.
const (
	spaceRecordVersion   = 1
	spaceRecordVersionV2 = 2
)

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
	storage     Storage
}

func (r *spaceRecord) encode() []byte {
	version := byte(spaceRecordVersion)
	if r.storage != Float32 && r.storage != DefaultStorage {
		version = spaceRecordVersionV2
	}
	b := []byte{version}
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
	if version == spaceRecordVersionV2 {
		b = append(b, byte(r.storage))
	}
	return b
}

func decodeSpaceRecord(b []byte) (spaceRecord, error) {
	if len(b) == 0 || (b[0] != spaceRecordVersion && b[0] != spaceRecordVersionV2) {
		v := -1
		if len(b) > 0 {
			v = int(b[0])
		}
		return spaceRecord{}, fmt.Errorf("%w: space record version %d, this build reads %d and %d", ErrCorrupt, v, spaceRecordVersion, spaceRecordVersionV2)
	}
	version := b[0]
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
	s.storage = Float32
	if version == spaceRecordVersionV2 {
		if v := r.bytes(1); v != nil {
			s.storage = Storage(v[0])
		}
	}
	if r.err != nil || len(r.b) != 0 || (s.storage != Float32 && s.storage != Int8) {
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
