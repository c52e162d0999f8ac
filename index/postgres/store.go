package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"simsearch/index"
)

// DriverName is the name under which the store is registered with
// index.RegisterDriver.
const DriverName = "postgres"

func init() {
	index.RegisterDriver(index.Driver{
		Name:   DriverName,
		Claims: Claims,
		Open: func(ctx context.Context, target string, opts index.Options) (index.Store, error) {
			return Open(ctx, target, opts)
		},
	})
}

// keyValue recognizes a libpq key=value connection string.
var keyValue = regexp.MustCompile(`(^|\s)(host|hostaddr|dbname|service)\s*=`)

// Claims reports whether target names a PostgreSQL database: a
// postgres:// or postgresql:// URL, or a key=value connection string with
// host=, hostaddr=, dbname= or service=.
func Claims(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://") || keyValue.MatchString(target)
}

// Redact returns target without its password, for messages.
func Redact(target string) string {
	if strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://") {
		u, err := url.Parse(target)
		if err != nil {
			return "postgres://(unparsable URL)"
		}
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		if q.Has("password") {
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return passwordField.ReplaceAllString(target, "")
}

// passwordField matches password=… in a key=value string, quoted or not.
var passwordField = regexp.MustCompile(`\s*\bpassword\s*=\s*('(\\.|[^'])*'|\S*)`)

// Store is a simsearch database in PostgreSQL: an index.Store.
//
// Concurrency: safe for concurrent use by many goroutines and beside
// other processes writing the same database (see the package comment).
type Store struct {
	pool *pgxpool.Pool
	path string
	opts index.Options

	mu     sync.Mutex // guards the fields below
	spaces map[string]*Space
	counts counts // last read
	closed bool
}

// counts mirrors the meta row.
type counts struct {
	items, probes int
	splits        map[string]int
}

// Open connects to the database at target and checks, or on first use
// creates, its simsearch schema. A database whose schema has another
// version is an error wrapping index.ErrVersion; one without the vector
// extension, or (read-only) without a simsearch schema, wraps
// index.ErrNotIndex. Each says what to do.
func Open(ctx context.Context, target string, opts index.Options) (*Store, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	path := Redact(target)
	cfg, err := pgxpool.ParseConfig(target)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w: %v", path, index.ErrInvalid, redactError(err, target))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	if !strings.Contains(target, "pool_max_conns") {
		cfg.MaxConns = int32(max(4, opts.Workers+2))
	}
	params := cfg.ConnConfig.RuntimeParams
	if _, ok := params["application_name"]; !ok {
		params["application_name"] = "simsearch"
	}
	if opts.ReadOnly {
		params["default_transaction_read_only"] = "on"
	}

	// Check or create the extension and the schema on one connection
	// first: the pool's connections register the vector type, which
	// needs the extension.
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, redactError(err, target))
	}
	err = prepare(ctx, conn, path, opts.ReadOnly)
	conn.Close(context.Background())
	if err != nil {
		return nil, err
	}

	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error { return pgxvec.RegisterTypes(ctx, c) }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, redactError(err, target))
	}
	st := &Store{pool: pool, path: path, opts: opts, spaces: map[string]*Space{}}
	if _, err := st.readCounts(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return st, nil
}

// redactError removes target's password from an error's text, should a
// library have quoted it.
func redactError(err error, target string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, secret := range passwords(target) {
		if secret != "" && strings.Contains(msg, secret) {
			return errors.New(strings.ReplaceAll(msg, secret, "xxxxx"))
		}
	}
	return err
}

// passwords returns the passwords written in target.
func passwords(target string) []string {
	var out []string
	if u, err := url.Parse(target); err == nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
		if p := u.Query().Get("password"); p != "" {
			out = append(out, p)
		}
	}
	for _, m := range passwordField.FindAllStringSubmatch(target, -1) {
		out = append(out, strings.Trim(m[1], "'"))
	}
	return out
}

// Path returns the target without its password.
func (st *Store) Path() string { return st.path }

// ReadOnly reports whether the store was opened read-only: its sessions
// are read-only transactions and the writing methods return
// index.ErrReadOnly.
func (st *Store) ReadOnly() bool { return st.opts.ReadOnly }

// Close closes the pool of connections. Nothing is pending: every write
// has been committed when it returned. Later calls return nil.
func (st *Store) Close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil
	}
	st.closed = true
	st.pool.Close()
	return nil
}

// Pool returns the store's connection pool, for tools that need SQL the
// Store does not offer.
func (st *Store) Pool() *pgxpool.Pool { return st.pool }

func (st *Store) checkOpen() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return index.ErrClosed
	}
	return nil
}

func (st *Store) checkWritable() error {
	if err := st.checkOpen(); err != nil {
		return err
	}
	if st.opts.ReadOnly {
		return fmt.Errorf("%s: %w", st.path, index.ErrReadOnly)
	}
	return nil
}

// quick returns a context for the methods of the contract that take none.
func quick() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}

var _ index.Store = (*Store)(nil)
