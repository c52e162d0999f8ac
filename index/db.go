package index

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FormatVersion is the version of the database layout this build writes
// and reads. Open refuses files of any other version.
const FormatVersion = 1

// magic is stored under meta/magic to recognize a simsearch file.
const magic = "simsearch index"

// Bucket and key names.
var (
	bucketMeta    = []byte("meta")
	bucketItems   = []byte("items")
	bucketHashes  = []byte("hashes")
	bucketThumbs  = []byte("thumbnails")
	bucketSpaces  = []byte("spaces")
	keyMagic      = []byte("magic")
	keyVersion    = []byte("version")
	keyItemCount  = []byte("items")
	keySplits     = []byte("splits")
	keyProbeCount = []byte("probes")
)

// Options configure Open. The zero value is valid: every field's zero
// means its default, as in DefaultOptions. Open copies it; Progress must be
// safe to call from the goroutine that loads or saves a graph.
type Options struct {
	// ReadOnly opens the file with a shared lock, so that several readers
	// (query, info, report) can run at once; writing methods return
	// ErrReadOnly. A graph that is behind its vectors is brought up to
	// date in memory only.
	ReadOnly bool

	// Timeout is how long Open waits for another process to release the
	// file's lock before it returns ErrInUse. Zero means 1 s; a negative
	// value waits forever.
	Timeout time.Duration

	// Workers is the number of goroutines that insert into graphs and run
	// batches of queries. Zero means runtime.GOMAXPROCS(0).
	Workers int

	// Populate asks the kernel to read the whole file into memory when it
	// is mapped (MAP_POPULATE, Linux only), which makes the first queries
	// faster when the file is not in the page cache.
	Populate bool

	// Progress, when not nil, is called as graphs are loaded, built and
	// saved. It is called from the goroutine doing the work.
	Progress func(Progress)
}

// DefaultOptions returns the options the zero value stands for.
func DefaultOptions() Options {
	return Options{Timeout: time.Second, Workers: runtime.GOMAXPROCS(0)}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Timeout == 0 {
		o.Timeout = d.Timeout
	}
	if o.Workers <= 0 {
		o.Workers = d.Workers
	}
	return o
}

// Progress reports a long step of the index: loading, building or saving
// a space's graph. It is a plain value passed to Options.Progress.
type Progress struct {
	// Stage is "load", "build" (insertions into the graph, including
	// those that bring a saved graph up to date) or "save".
	Stage string
	// Space is the space's name.
	Space string
	// Done and Total count vectors; Total is 0 when unknown.
	Done, Total int64
}

// DB is an open simsearch database file: items, stored once, and named
// spaces of vectors with their HNSW graphs.
//
// Concurrency: a DB is safe for concurrent use by many goroutines. Reads
// (items, searches) run in parallel; writes (AddItems, CreateSpace,
// Space.AddVectors, SaveGraphs) are serialized, each in one bbolt
// transaction. Between processes, a writer holds an exclusive lock on the
// file and readers (ReadOnly) a shared one.
type DB struct {
	path string
	bolt *bolt.DB
	opts Options

	writeMu sync.Mutex // serializes writes so memory follows commit order

	mu     sync.Mutex // guards the fields below
	spaces map[string]*Space
	closed bool

	// counts mirrors meta: item count, probe count, items per split.
	counts atomic.Pointer[itemCounts]

	catalogMu sync.Mutex // serializes loading the catalog
	catalog   atomic.Pointer[catalog]
}

// itemCounts is an immutable snapshot of the stored counts.
type itemCounts struct {
	items  int
	probes int
	splits map[string]int
}

// Open opens the database file at path, creating it (when not ReadOnly)
// if it does not exist. It returns an error wrapping ErrInUse when another
// process holds the file longer than opts.Timeout, ErrNotIndex for a file
// that is not a simsearch database, ErrVersion for another format version
// and ErrCorrupt for a damaged one. It never re-initializes an existing
// file.
func Open(path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	info, err := os.Stat(path)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open index %s: %w", path, err)
	case !exists && opts.ReadOnly:
		return nil, fmt.Errorf("open index %s: no such file", path)
	case exists && info.IsDir():
		return nil, fmt.Errorf("open index %s: %w: it is a directory", path, ErrNotIndex)
	case exists && info.Size() == 0 && opts.ReadOnly:
		return nil, fmt.Errorf("open index %s: %w: the file is empty", path, ErrNotIndex)
	}
	fresh := !exists || info.Size() == 0

	db := &DB{path: path, opts: opts, spaces: map[string]*Space{}}
	if !fresh {
		// Check the file with a shared lock before anything else touches
		// it: a writable bbolt open reads the free list, which faults on a
		// truncated file.
		b, err := openBolt(path, opts, true)
		if err != nil {
			return nil, err
		}
		if err := validate(b, path); err != nil {
			b.Close()
			return nil, err
		}
		if opts.ReadOnly {
			db.bolt = b
		} else if err := b.Close(); err != nil {
			return nil, fmt.Errorf("open index %s: %w", path, err)
		}
	}
	if db.bolt == nil {
		b, err := openBolt(path, opts, false)
		if err != nil {
			return nil, err
		}
		db.bolt = b
	}
	if fresh {
		if err := db.initialize(); err != nil {
			db.bolt.Close()
			return nil, fmt.Errorf("create index %s: %w", path, err)
		}
	}
	if err := db.loadCounts(); err != nil {
		db.bolt.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return db, nil
}

// openBolt opens the bbolt file, turning its errors into the package's.
func openBolt(path string, opts Options, readOnly bool) (b *bolt.DB, err error) {
	// bbolt polls the lock every 50 ms and gives up one poll before its
	// timeout: add that poll back so the wait lasts at least opts.Timeout.
	timeout := opts.Timeout + 50*time.Millisecond
	if opts.Timeout < 0 {
		timeout = 0 // bbolt waits forever
	}
	bo := &bolt.Options{
		Timeout:      timeout,
		ReadOnly:     readOnly,
		FreelistType: bolt.FreelistMapType,
		MmapFlags:    mmapFlags(opts.Populate),
	}
	err = guard(func() error {
		var err error
		b, err = bolt.Open(path, 0o644, bo)
		return err
	})
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open index %s: %w: another simsearch process holds it (waited %v); wait for it to finish or stop it", path, ErrInUse, opts.Timeout)
	case errors.Is(err, ErrCorrupt):
		return nil, fmt.Errorf("open index %s: %w", path, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open index %s: %w", path, err)
	default:
		// bbolt's "invalid database", "checksum error", "version
		// mismatch", "file size too small": not a database we can read.
		return nil, fmt.Errorf("open index %s: %w (%v)", path, ErrNotIndex, err)
	}
}

// validate checks that b is a whole simsearch database of this version.
func validate(b *bolt.DB, path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open index %s: %w", path, err)
	}
	return guard(func() error {
		return b.View(func(tx *bolt.Tx) error {
			if tx.Size() > info.Size() {
				return fmt.Errorf("open index %s: %w: the file is truncated (%d bytes, %d expected)", path, ErrCorrupt, info.Size(), tx.Size())
			}
			meta := tx.Bucket(bucketMeta)
			if meta == nil || string(meta.Get(keyMagic)) != magic {
				return fmt.Errorf("open index %s: %w (a bbolt file of another program?)", path, ErrNotIndex)
			}
			v := meta.Get(keyVersion)
			if len(v) != 4 {
				return fmt.Errorf("open index %s: %w: no format version", path, ErrCorrupt)
			}
			if got := binary.BigEndian.Uint32(v); got != FormatVersion {
				newer := "an older"
				if got > FormatVersion {
					newer = "a newer"
				}
				return fmt.Errorf("open index %s: %w: format %d, written by %s simsearch; this build reads format %d", path, ErrVersion, got, newer, FormatVersion)
			}
			for _, name := range [][]byte{bucketItems, bucketHashes, bucketThumbs, bucketSpaces} {
				if tx.Bucket(name) == nil {
					return fmt.Errorf("open index %s: %w: bucket %q missing", path, ErrCorrupt, name)
				}
			}
			return nil
		})
	})
}

// initialize writes the layout of a new database.
func (db *DB) initialize() error {
	return db.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil {
			return nil
		}
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bucketItems, bucketHashes, bucketThumbs, bucketSpaces} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := meta.Put(keyMagic, []byte(magic)); err != nil {
			return err
		}
		return meta.Put(keyVersion, binary.BigEndian.AppendUint32(nil, FormatVersion))
	})
}

// loadCounts reads the stored counts into db.counts.
func (db *DB) loadCounts() error {
	return db.view(func(tx *bolt.Tx) error {
		c, err := readCounts(tx.Bucket(bucketMeta))
		if err != nil {
			return err
		}
		db.counts.Store(c)
		return nil
	})
}

// Path returns the file's path.
func (db *DB) Path() string { return db.path }

// ReadOnly reports whether the database was opened read-only.
func (db *DB) ReadOnly() bool { return db.opts.ReadOnly }

// Close saves the graphs that changed (unless ReadOnly) and closes the
// file. It is safe to call more than once; later calls return nil.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.mu.Unlock()
	var saveErr error
	if !db.opts.ReadOnly {
		saveErr = db.SaveGraphs(context.Background())
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	db.mu.Lock()
	db.closed = true
	db.mu.Unlock()
	err := db.bolt.Close()
	return errors.Join(saveErr, err)
}

// checkOpen returns ErrClosed after Close.
func (db *DB) checkOpen() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return ErrClosed
	}
	return nil
}

// checkWritable returns ErrClosed or ErrReadOnly when writing is not
// possible.
func (db *DB) checkWritable() error {
	if err := db.checkOpen(); err != nil {
		return err
	}
	if db.opts.ReadOnly {
		return fmt.Errorf("%s: %w", db.path, ErrReadOnly)
	}
	return nil
}

// testHookInTransaction, when a test sets it, is called inside AddItems'
// and AddVectors' transactions just before they commit.
var testHookInTransaction func(op string)

func inTransaction(op string) {
	if testHookInTransaction != nil {
		testHookInTransaction(op)
	}
}

// view runs a read transaction, turning a fault on a damaged file into
// ErrCorrupt.
func (db *DB) view(fn func(tx *bolt.Tx) error) error {
	return guard(func() error { return db.bolt.View(fn) })
}

// update runs a write transaction; see view.
func (db *DB) update(fn func(tx *bolt.Tx) error) error {
	return guard(func() error { return db.bolt.Update(fn) })
}

// guard runs fn, turning a panic (bbolt panics on pages it cannot make
// sense of, and a memory fault on a damaged mapping becomes one with
// SetPanicOnFault) into an error wrapping ErrCorrupt. bbolt rolls back a
// transaction whose function panics.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return fn()
}
