package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"simsearch/index"
)

// labelSchemaVersion is the version of the label schema's stored JSON.
const labelSchemaVersion = 1

// labelSchemaSQL creates the table of the label schema: made on the first
// SetLabels, so that databases made before it need no migration.
const labelSchemaSQL = `CREATE TABLE IF NOT EXISTS simsearch.label_schema (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	version integer NOT NULL,
	schema jsonb NOT NULL
)`

// storedSchema is the stored form of a label schema.
type storedSchema struct {
	Labels []index.LabelInfo `json:"labels"`
}

// LabelSchema returns the store's label schema (see index.LabelSchema);
// an empty one when no labels were ever set.
func (st *Store) LabelSchema() (index.LabelSchema, error) {
	if err := st.checkOpen(); err != nil {
		return index.LabelSchema{}, err
	}
	ctx, cancel := quick()
	defer cancel()
	s, err := readLabelSchema(ctx, st.pool)
	if err != nil {
		return index.LabelSchema{}, fmt.Errorf("read the label schema of %s: %w", st.path, st.wrap(err))
	}
	return s, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readLabelSchema(ctx context.Context, q querier) (index.LabelSchema, error) {
	var table *string
	if err := q.QueryRow(ctx, "SELECT to_regclass('simsearch.label_schema')::text").Scan(&table); err != nil {
		return index.LabelSchema{}, err
	}
	if table == nil {
		return index.LabelSchema{}, nil
	}
	var (
		version int
		raw     []byte
	)
	err := q.QueryRow(ctx, "SELECT version, schema FROM simsearch.label_schema").Scan(&version, &raw)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return index.LabelSchema{}, nil
	case err != nil:
		return index.LabelSchema{}, err
	case version != labelSchemaVersion:
		return index.LabelSchema{}, fmt.Errorf("%w: label schema version %d, this build reads %d", index.ErrVersion, version, labelSchemaVersion)
	}
	var s storedSchema
	if err := json.Unmarshal(raw, &s); err != nil {
		return index.LabelSchema{}, fmt.Errorf("%w: label schema: %v", index.ErrCorrupt, err)
	}
	schema := index.LabelSchema{Labels: s.Labels}
	if err := schema.Validate(); err != nil {
		return index.LabelSchema{}, fmt.Errorf("%w: label schema: %v", index.ErrCorrupt, err)
	}
	return schema, nil
}

// SetLabels merges schema into the store's label schema and applies
// updates to stored items (and to the labels the spaces' tables copy for
// filters), in one transaction, as index.DB.SetLabels does.
func (st *Store) SetLabels(ctx context.Context, schema index.LabelSchema, updates []index.LabelUpdate) (changed int, err error) {
	if err := st.checkWritable(); err != nil {
		return 0, fmt.Errorf("set labels: %w", err)
	}
	if err := schema.Validate(); err != nil {
		return 0, fmt.Errorf("set labels: %w", err)
	}
	for _, u := range updates {
		probe := index.Item{Split: "x", Labels: u.Labels, Factors: u.Factors}
		if err := probe.Validate(); err != nil {
			return 0, fmt.Errorf("set labels of item %d: %w: %v", u.ID, index.ErrInvalid, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	err = retry(ctx, func() error {
		changed = 0
		return pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
			// The meta row's lock serializes SetLabels with AddItems.
			if _, err := tx.Exec(ctx, "SELECT 1 FROM simsearch.meta FOR UPDATE"); err != nil {
				return err
			}
			if len(schema.Labels) > 0 {
				if _, err := tx.Exec(ctx, labelSchemaSQL); err != nil {
					return err
				}
				stored, err := readLabelSchema(ctx, tx)
				if err != nil {
					return err
				}
				merged, err := stored.Merge(schema)
				if err != nil {
					return err
				}
				raw, err := json.Marshal(storedSchema{Labels: merged.Labels})
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO simsearch.label_schema (one, version, schema) VALUES (true, $1, $2)
					ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version, schema = EXCLUDED.schema`, labelSchemaVersion, string(raw)); err != nil {
					return err
				}
			}
			if len(updates) == 0 {
				return nil
			}
			rows, err := tx.Query(ctx, "SELECT id FROM simsearch.spaces")
			if err != nil {
				return err
			}
			spaceIDs, err := pgx.CollectRows(rows, pgx.RowTo[int])
			if err != nil {
				return err
			}
			for _, u := range updates {
				it := index.Item{ID: u.ID}
				var labels, factors []byte
				err := tx.QueryRow(ctx, "SELECT labels, factors FROM simsearch.items WHERE id = $1 FOR UPDATE", int64(u.ID)).Scan(&labels, &factors)
				if errors.Is(err, pgx.ErrNoRows) {
					return fmt.Errorf("item %d: %w", u.ID, index.ErrNoItem)
				}
				if err != nil {
					return err
				}
				if err := json.Unmarshal(labels, &it.Labels); err != nil {
					return fmt.Errorf("%w: item %d: labels: %v", index.ErrCorrupt, u.ID, err)
				}
				if err := json.Unmarshal(factors, &it.Factors); err != nil {
					return fmt.Errorf("%w: item %d: factors: %v", index.ErrCorrupt, u.ID, err)
				}
				if !u.Apply(&it) {
					continue
				}
				changed++
				newLabels, err := json.Marshal(nonNil(it.Labels))
				if err != nil {
					return err
				}
				newFactors, err := json.Marshal(nonNil(it.Factors))
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "UPDATE simsearch.items SET labels = $2, factors = $3 WHERE id = $1", int64(u.ID), string(newLabels), string(newFactors)); err != nil {
					return err
				}
				for _, id := range spaceIDs {
					if _, err := tx.Exec(ctx, fmt.Sprintf("UPDATE simsearch.vectors_%d SET labels = $2 WHERE item_id = $1", id), int64(u.ID), string(newLabels)); err != nil {
						return err
					}
				}
			}
			if changed > 0 {
				return inTransaction(ctx, "labels")
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("set labels in %s: %w", st.path, st.wrap(err))
	}
	return changed, nil
}
