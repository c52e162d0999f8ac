package index

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Store is a database of items and named spaces: the contract that the
// rest of simsearch (ingest, query, report, info, check, export) works
// against, whatever holds the data. The embedded bbolt file (Open) is one
// implementation; a driver registered with RegisterDriver, such as the
// PostgreSQL store, is another. Connect opens either from a target string.
//
// Concurrency: a Store is safe for concurrent use by many goroutines, as
// DB is. Writes are serialized by the store; between processes each
// implementation says what runs beside what.
type Store interface {
	// Path says where the data lives: a file path, or a server address
	// with any password left out.
	Path() string
	// ReadOnly reports whether the store was opened read-only.
	ReadOnly() bool
	// Close releases the store; a writable one first saves what is
	// pending (graphs).
	Close() error

	// Len returns the number of items; SplitCounts the ordinary items by
	// split (probe items under SplitProbe); ProbeCount the probe items.
	Len() int
	SplitCounts() map[string]int
	ProbeCount() int
	// AddItems stores items in one transaction; an item whose hash is
	// stored keeps its id and its stored fields (see DB.AddItems).
	AddItems(ctx context.Context, items []Item) (ids []ItemID, added int, err error)
	Item(id ItemID) (Item, error)
	Items(ids []ItemID) ([]Item, error)
	Thumbnail(id ItemID) ([]byte, error)
	LookupHash(h Hash) (ItemID, bool, error)
	LookupHashes(hashes []Hash) (ids []ItemID, found []bool, err error)
	ForEachItem(ctx context.Context, fn func(Item) error) error
	Select(f Filter) ([]ItemID, error)

	// LabelSchema returns the kinds and class names of the labels that
	// labels files and factorial datasets brought (see LabelSchema);
	// SetLabels merges a schema into it and sets labels of stored items,
	// in one transaction (see DB.SetLabels).
	LabelSchema() (LabelSchema, error)
	SetLabels(ctx context.Context, schema LabelSchema, updates []LabelUpdate) (changed int, err error)

	// SpaceNames returns the spaces' names, sorted.
	SpaceNames() ([]string, error)
	// Space returns the space called name, or an error wrapping
	// ErrNoSpace.
	Space(name string) (SpaceStore, error)
	// CreateSpace creates a space, or opens it if it exists with the same
	// encoder, dimension and metric (see DB.CreateSpace).
	CreateSpace(ctx context.Context, cfg SpaceConfig) (SpaceStore, error)
	DeleteSpace(ctx context.Context, name string) error
	// Info describes the store and its spaces.
	Info() (Info, error)
}

// SpaceStore is one space of a Store: vectors of one encoder, at most one
// per item, and a nearest-neighbour index over them. Space is the bbolt
// implementation; its doc comments state the contract of each method.
//
// Concurrency: safe for concurrent use; searches run in parallel.
type SpaceStore interface {
	Name() string
	Dim() int
	Metric() Metric
	Graph() GraphConfig
	Info() SpaceInfo

	Len() int
	Has(id ItemID) bool
	Missing(ids []ItemID) []ItemID
	Items() []ItemID

	Encoder() (Encoder, error)
	CheckEncoder(id string) error

	AddVectors(ctx context.Context, ids []ItemID, vectors []float32) (added int, err error)
	Vector(id ItemID) ([]float32, error)
	Vectors(ctx context.Context, ids []ItemID) ([]float32, error)

	// Load makes the space ready to search (for the file: reads vectors
	// and graph); SaveGraph stores the index so the next open is fast.
	// Stores whose index lives on a server may do nothing.
	Load(ctx context.Context) error
	SaveGraph(ctx context.Context) error

	Search(query []float32, opts SearchOptions) ([]Result, error)
	SearchItem(id ItemID, opts SearchOptions) ([]Result, error)
	SearchBatch(ctx context.Context, queries []float32, opts SearchOptions) ([][]Result, error)
	SearchItems(ctx context.Context, ids []ItemID, opts SearchOptions) ([][]Result, error)
	Plan(ctx context.Context, opts SearchOptions) (method Method, matching int, err error)
	Check(ctx context.Context, opts CheckOptions) (CheckResult, error)
}

// Driver opens stores of one kind from a target string.
type Driver struct {
	// Name names the kind of store in messages ("postgres").
	Name string
	// Claims reports whether target is for this driver (a URL scheme, a
	// connection string).
	Claims func(target string) bool
	// Open opens the store at target.
	Open func(ctx context.Context, target string, opts Options) (Store, error)
}

var (
	driversMu sync.Mutex
	drivers   []Driver
)

// RegisterDriver makes a kind of store available to Connect. It is meant
// to be called from a driver package's init function; it panics if a
// driver of that name is registered already.
func RegisterDriver(d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	for _, o := range drivers {
		if o.Name == d.Name {
			panic("index: driver " + d.Name + " registered twice")
		}
	}
	drivers = append(drivers, d)
}

// Connect opens the store named by target: a registered driver's target
// (such as postgres://host/db) or else a database file path, opened with
// Open. A target that looks like a server address but whose driver is not
// registered is an error, never a file of that name.
func Connect(ctx context.Context, target string, opts Options) (Store, error) {
	driversMu.Lock()
	ds := append([]Driver(nil), drivers...)
	driversMu.Unlock()
	for _, d := range ds {
		if d.Claims(target) {
			return d.Open(ctx, target, opts)
		}
	}
	if scheme, _, ok := strings.Cut(target, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, `/\.`) {
		return nil, fmt.Errorf("%w: %s: no store of kind %q in this build", ErrInvalid, target, scheme)
	}
	db, err := Open(target, opts)
	if err != nil {
		return nil, err
	}
	return FileStore(db), nil
}

// FileStore returns db as a Store.
func FileStore(db *DB) Store { return fileStore{db} }

// fileStore adapts *DB to Store: its spaces are returned as SpaceStore.
type fileStore struct{ *DB }

func (f fileStore) Space(name string) (SpaceStore, error) {
	s, err := f.DB.Space(name)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (f fileStore) CreateSpace(ctx context.Context, cfg SpaceConfig) (SpaceStore, error) {
	s, err := f.DB.CreateSpace(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// File returns the database file behind s, or nil when s is another kind
// of store.
func File(s Store) *DB {
	if f, ok := s.(fileStore); ok {
		return f.DB
	}
	return nil
}

var (
	_ Store      = fileStore{}
	_ SpaceStore = (*Space)(nil)
)
