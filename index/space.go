package index

import (
	"fmt"
	"math"
	"sync"

	"simsearch/index/hnsw"

	bolt "go.etcd.io/bbolt"
)

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

	// The stored vectors of an Int8 space, in place (see fileVectors).
	viewMu      sync.Mutex
	fileView    *vectorView
	fileViewKey viewKey
}

const noNode = math.MaxUint32

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
