package index

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	// file's lock before it returns ErrInUse. Zero means DefaultTimeout;
	// WaitForever waits as long as it takes.
	Timeout time.Duration

	// Waiting, when not nil, is called once when another process holds the
	// file, before Open waits for it, with a description of that process
	// (its command line and pid, when it is a writer that recorded them).
	Waiting func(holder string)

	// Workers is the number of goroutines that insert into graphs and run
	// batches of queries. Zero means runtime.GOMAXPROCS(0).
	Workers int

	// Populate asks the kernel to read the whole file into memory when it
	// is mapped (MAP_POPULATE, Linux only), which makes the first queries
	// faster when the file is not in the page cache.
	Populate bool

	// Storage is the storage of the spaces CreateSpace makes when their
	// SpaceConfig leaves it zero; zero means Float32. A store that keeps
	// only float32 vectors (PostgreSQL) refuses Int8.
	Storage Storage

	// Progress, when not nil, is called as graphs are loaded, built and
	// saved. It is called from the goroutine doing the work.
	Progress func(Progress)
}

// DefaultTimeout is how long Open waits for another process that holds
// the file: long enough to outlast a short write (a report storing its
// probes), short enough that a command does not seem to hang.
const DefaultTimeout = 30 * time.Second

// WaitForever, as Options.Timeout, waits for the file as long as it takes.
const WaitForever time.Duration = -1

// DefaultOptions returns the options the zero value stands for.
func DefaultOptions() Options {
	return Options{Timeout: DefaultTimeout, Workers: runtime.GOMAXPROCS(0)}
}

// withDefaults checks o and fills its zero fields.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Timeout < 0 && o.Timeout != WaitForever:
		return o, fmt.Errorf("%w: timeout %v: want 0 (the default), a positive duration or WaitForever", ErrInvalid, o.Timeout)
	case o.Workers < 0:
		return o, fmt.Errorf("%w: %d workers: want 0 (one per core) or more", ErrInvalid, o.Workers)
	case o.Storage > Int8:
		return o, fmt.Errorf("%w: unknown storage %d", ErrInvalid, o.Storage)
	}
	d := DefaultOptions()
	o.Timeout = cmp.Or(o.Timeout, d.Timeout)
	o.Workers = cmp.Or(o.Workers, d.Workers)
	return o, nil
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
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(path)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open index %s: %w", path, err)
	case !exists && opts.ReadOnly:
		return nil, fmt.Errorf("open index %s: no such file", path)
	case exists && info.IsDir():
		return nil, fmt.Errorf("open index %s: %w: it is a directory", path, ErrNotIndex)
	case exists && info.Size() == 0:
		// Open never leaves an empty file (see create): an empty one is
		// someone else's, or what is left of a file truncated by mistake.
		return nil, fmt.Errorf("open index %s: %w: the file is empty (remove it, or give another path, to start a new database)", path, ErrNotIndex)
	}
	if !exists {
		if err := create(path); err != nil {
			return nil, fmt.Errorf("create index %s: %w", path, err)
		}
	}

	db := &DB{path: path, opts: opts, spaces: map[string]*Space{}}
	// Check the file with a shared lock before anything else touches it: a
	// writable bbolt open reads the free list, which faults on a truncated
	// file.
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
	} else {
		if err := b.Close(); err != nil {
			return nil, fmt.Errorf("open index %s: %w", path, err)
		}
		if db.bolt, err = openBolt(path, opts, false); err != nil {
			return nil, err
		}
		recordHolder(path)
	}
	if err := db.loadCounts(); err != nil {
		db.close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return db, nil
}

// create makes a new, empty database at path. It writes it under a
// temporary name and links it into place, so that a crash never leaves an
// empty or half-made file at path, and a file another process created
// meanwhile is kept as it is.
func create(path string) error {
	dir, base := filepath.Split(path)
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.new-%d", base, os.Getpid()))
	os.Remove(tmp)
	defer os.Remove(tmp)
	b, err := bolt.Open(tmp, 0o644, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	if err := initialize(b); err != nil {
		b.Close()
		return err
	}
	if err := b.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if d, err := os.Open(cmp.Or(dir, ".")); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// openBolt opens the bbolt file, turning its errors into the package's.
// When another process holds the file, it tells opts.Waiting who, then
// waits up to opts.Timeout.
func openBolt(path string, opts Options, readOnly bool) (*bolt.DB, error) {
	// A first attempt that does not wait tells whether there is anyone to
	// wait for.
	b, err := openBoltWithin(path, opts, readOnly, time.Nanosecond)
	if !errors.Is(err, berrors.ErrTimeout) {
		return b, boltError(path, err)
	}
	who := describeHolder(path)
	if opts.Waiting != nil {
		opts.Waiting(who)
	}
	// bbolt polls the lock every 50 ms and gives up one poll before its
	// timeout: add that poll back so the wait lasts at least opts.Timeout.
	timeout := opts.Timeout + 50*time.Millisecond
	if opts.Timeout == WaitForever {
		timeout = 0 // bbolt waits forever
	}
	b, err = openBoltWithin(path, opts, readOnly, timeout)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open index %s: %w: it is held by %s (waited %v, see --timeout); wait for it to finish or stop it", path, ErrInUse, who, opts.Timeout)
	}
	return b, boltError(path, err)
}

// openBoltWithin opens the bbolt file, waiting up to timeout for its lock
// (0: forever).
func openBoltWithin(path string, opts Options, readOnly bool, timeout time.Duration) (b *bolt.DB, err error) {
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
	return b, err
}

// boltError turns an error of bolt.Open into the package's.
func boltError(path string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("open index %s: %w", path, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("open index %s: %w", path, err)
	default:
		// bbolt's "invalid database", "checksum error", "version
		// mismatch", "file size too small": not a database we can read.
		return fmt.Errorf("open index %s: %w (%v)", path, ErrNotIndex, err)
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

// initialize writes the layout of a new database into b.
func initialize(b *bolt.DB) error {
	return b.Update(func(tx *bolt.Tx) error {
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
	return errors.Join(saveErr, db.close())
}

// close closes the file, forgetting this process as its writer.
func (db *DB) close() error {
	db.mu.Lock()
	db.closed = true
	db.mu.Unlock()
	if !db.opts.ReadOnly {
		forgetHolder(db.path)
	}
	return db.bolt.Close()
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
