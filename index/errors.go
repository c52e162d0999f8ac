package index

import "errors"

// Sentinel errors of the index package. Functions wrap them with context
// ("open index x.db: %w"); test for them with errors.Is.
var (
	// ErrInUse is returned by Open when another process holds the file's lock
	// for longer than Options.Timeout.
	ErrInUse = errors.New("database file is in use by another process")

	// ErrNotIndex is returned by Open for a file that is not a simsearch
	// database (random bytes, another bbolt application's file, ...).
	ErrNotIndex = errors.New("not a simsearch database file")

	// ErrVersion is returned by Open for a simsearch database written with
	// another format version.
	ErrVersion = errors.New("unsupported database format version")

	// ErrCorrupt is returned when a stored record cannot be decoded or the
	// file is damaged (truncated, overwritten).
	ErrCorrupt = errors.New("corrupt database record")

	// ErrNoSpace is returned when a named space does not exist.
	ErrNoSpace = errors.New("no such space")

	// ErrEncoderMismatch is returned when vectors from one encoder are
	// written to or queried against a space that holds another encoder.
	ErrEncoderMismatch = errors.New("space holds another encoder")

	// ErrNoItem is returned for an item id that the database does not hold,
	// or that has no vector in the space asked about.
	ErrNoItem = errors.New("no such item")

	// ErrReadOnly is returned by the writing methods of a database opened
	// with Options.ReadOnly.
	ErrReadOnly = errors.New("database opened read-only")

	// ErrInvalid is returned for arguments a caller got wrong: a vector of
	// the wrong dimension or with a NaN, an empty space name, a record field
	// too long, a negative k.
	ErrInvalid = errors.New("invalid argument")

	// ErrClosed is returned by the methods of a closed database.
	ErrClosed = errors.New("database is closed")
)
