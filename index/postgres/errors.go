package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"simsearch/index"
)

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation     = "23505"
	codeReadOnlyTransaction = "25006"
	codeSerialization       = "40001"
	codeDeadlock            = "40P01"
	codeUndefinedTable      = "42P01"
	codeQueryCanceled       = "57014"
)

// sqlState returns err's SQLSTATE, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// wrap turns server errors the contract names into the index package's
// sentinels.
func (st *Store) wrap(err error) error {
	switch sqlState(err) {
	case "":
		return err
	case codeReadOnlyTransaction:
		return fmt.Errorf("%w: %v", index.ErrReadOnly, err)
	}
	return err
}

// retry runs fn, again after a short wait when it fails with a deadlock,
// a serialization failure or a unique violation (two writers inserting
// the same row at once): each of fn's attempts is one transaction that
// rolled back whole, and the next one sees what the other writer
// committed.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range 8 {
		err = fn()
		switch sqlState(err) {
		case codeDeadlock, codeSerialization, codeUniqueViolation:
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(5<<attempt) * time.Millisecond):
		}
	}
	return err
}

// testHookInTransaction, when a test sets it, is called inside AddItems'
// and AddVectors' transactions just before they commit; an error it
// returns rolls the transaction back.
var testHookInTransaction func(ctx context.Context, op string) error

func inTransaction(ctx context.Context, op string) error {
	if testHookInTransaction != nil {
		return testHookInTransaction(ctx, op)
	}
	return nil
}
