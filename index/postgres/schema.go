package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"simsearch/index"
)

// SchemaVersion is the version of the tables this build writes and reads.
// Open refuses a database whose simsearch schema has another.
const SchemaVersion = 1

// magic marks the meta row of a simsearch schema.
const magic = "simsearch index"

// minPgvector is the oldest pgvector with iterative index scans, which
// filtered searches need.
var minPgvector = [3]int{0, 8, 0}

// schemaSQL creates the tables of a new database; see the package comment.
const schemaSQL = `
CREATE SCHEMA IF NOT EXISTS simsearch;
CREATE TABLE simsearch.meta (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	magic text NOT NULL,
	version integer NOT NULL,
	items bigint NOT NULL DEFAULT 0,
	probes bigint NOT NULL DEFAULT 0,
	splits jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE simsearch.items (
	id bigint PRIMARY KEY,
	hash bytea NOT NULL UNIQUE,
	source text NOT NULL,
	split text NOT NULL,
	set_id bigint NOT NULL DEFAULT 0,
	grp text NOT NULL DEFAULT '',
	factors jsonb NOT NULL DEFAULT '{}',
	labels jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE simsearch.thumbnails (
	id bigint PRIMARY KEY,
	png bytea NOT NULL
);
CREATE TABLE simsearch.spaces (
	id serial PRIMARY KEY,
	name text NOT NULL UNIQUE,
	dim integer NOT NULL,
	metric text NOT NULL,
	m integer NOT NULL,
	ef_construction integer NOT NULL,
	ef_search integer NOT NULL,
	seed bigint NOT NULL,
	encoder_id text NOT NULL,
	description text NOT NULL,
	resolution integer NOT NULL,
	checkpoint bytea NOT NULL,
	vectors bigint NOT NULL DEFAULT 0
);
`

// prepare checks the vector extension and the schema on conn, creating
// them when the database has none and the store is writable.
func prepare(ctx context.Context, conn *pgx.Conn, path string, readOnly bool) error {
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if err := checkExtension(ctx, conn, path, db, readOnly); err != nil {
		return err
	}
	var meta *string
	if err := conn.QueryRow(ctx, "SELECT to_regclass('simsearch.meta')::text").Scan(&meta); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if meta == nil {
		if readOnly {
			return fmt.Errorf("open %s: %w: database %s holds no simsearch schema yet (ingest into it first)", path, index.ErrNotIndex, db)
		}
		if err := createSchema(ctx, conn); err != nil {
			return fmt.Errorf("create the simsearch schema in %s: %w", path, err)
		}
	}
	var (
		gotMagic string
		version  int
	)
	err := conn.QueryRow(ctx, "SELECT magic, version FROM simsearch.meta").Scan(&gotMagic, &version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("open %s: %w: schema simsearch of database %s has an empty meta table (another program's schema?)", path, index.ErrNotIndex, db)
	case err != nil:
		return fmt.Errorf("open %s: %w: schema simsearch of database %s is not simsearch's (%v)", path, index.ErrNotIndex, db, err)
	case gotMagic != magic:
		return fmt.Errorf("open %s: %w: schema simsearch of database %s belongs to another program", path, index.ErrNotIndex, db)
	case version != SchemaVersion:
		newer := "an older"
		if version > SchemaVersion {
			newer = "a newer"
		}
		return fmt.Errorf("open %s: %w: schema version %d, written by %s simsearch; this build reads version %d: use a simsearch of that version (or copy the spaces out with it)",
			path, index.ErrVersion, version, newer, SchemaVersion)
	}
	return nil
}

// checkExtension makes sure the vector extension is there and recent
// enough, creating it when the store is writable and the role may.
func checkExtension(ctx context.Context, conn *pgx.Conn, path, db string, readOnly bool) error {
	version, err := extensionVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if version == "" && !readOnly {
		if _, cerr := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); cerr != nil {
			var available bool
			if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')").Scan(&available); err != nil {
				return fmt.Errorf("open %s: %w", path, err)
			}
			if !available {
				return fmt.Errorf("open %s: %w: the server has no pgvector extension: install pgvector 0.8 or newer on the database server, then run CREATE EXTENSION vector in database %s", path, index.ErrNotIndex, db)
			}
			return fmt.Errorf("open %s: %w: database %s lacks the vector extension and this role may not create it (%v): ask its owner or a superuser to run CREATE EXTENSION vector in it", path, index.ErrNotIndex, db, cerr)
		}
		if version, err = extensionVersion(ctx, conn); err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
	}
	if version == "" {
		return fmt.Errorf("open %s: %w: database %s lacks the vector extension: run CREATE EXTENSION vector in it (pgvector 0.8 or newer)", path, index.ErrNotIndex, db)
	}
	if !atLeast(version, minPgvector) {
		return fmt.Errorf("open %s: %w: pgvector %s is older than 0.8.0, which simsearch needs for filtered searches: install a newer pgvector on the server and run ALTER EXTENSION vector UPDATE in database %s", path, index.ErrVersion, version, db)
	}
	return nil
}

// extensionVersion returns the installed version of pgvector, or "".
func extensionVersion(ctx context.Context, conn *pgx.Conn) (string, error) {
	var v string
	err := conn.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'vector'").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// atLeast reports whether the dotted version v is at least min.
func atLeast(v string, min [3]int) bool {
	parts := strings.SplitN(v, ".", 3)
	for i := range 3 {
		n := 0
		if i < len(parts) {
			n, _ = strconv.Atoi(strings.TrimFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		if n != min[i] {
			return n > min[i]
		}
	}
	return true
}

// createSchema creates the tables in one transaction. An advisory lock
// makes two processes creating them at once take turns; the second finds
// them made.
func createSchema(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('simsearch schema'))"); err != nil {
			return err
		}
		var meta *string
		if err := tx.QueryRow(ctx, "SELECT to_regclass('simsearch.meta')::text").Scan(&meta); err != nil {
			return err
		}
		if meta != nil {
			return nil
		}
		if _, err := tx.Exec(ctx, schemaSQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO simsearch.meta (magic, version) VALUES ($1, $2)", magic, SchemaVersion)
		return err
	})
}
