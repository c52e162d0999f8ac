package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"

	"github.com/jackc/pgx/v5"

	"simsearch/index"
)

// readCounts reads the meta row's counts and remembers them.
func (st *Store) readCounts(ctx context.Context) (counts, error) {
	var (
		c      counts
		splits []byte
	)
	err := st.pool.QueryRow(ctx, "SELECT items, probes, splits FROM simsearch.meta").Scan(&c.items, &c.probes, &splits)
	if err == nil {
		err = json.Unmarshal(splits, &c.splits)
	}
	if err != nil {
		return counts{}, fmt.Errorf("read the item counts: %w", err)
	}
	if c.splits == nil {
		c.splits = map[string]int{}
	}
	st.mu.Lock()
	st.counts = c
	st.mu.Unlock()
	return c, nil
}

// current returns the counts as the database holds them now, or the last
// ones read when the server cannot be asked.
func (st *Store) current() counts {
	ctx, cancel := quick()
	defer cancel()
	if st.checkOpen() == nil {
		if c, err := st.readCounts(ctx); err == nil {
			return c
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.counts
}

// Len returns the number of items (the last known number when the server
// cannot be reached).
func (st *Store) Len() int { return st.current().items }

// SplitCounts returns the number of items in each split.
func (st *Store) SplitCounts() map[string]int { return maps.Clone(st.current().splits) }

// ProbeCount returns the number of items that belong to a probe set.
func (st *Store) ProbeCount() int { return st.current().probes }

// AddItems stores items in one transaction and returns their ids and how
// many were new, as index.DB.AddItems does. It holds the meta row's lock
// while it assigns ids, so concurrent writers (other processes too) take
// turns and a hash is stored once. A deadlock or serialization failure is
// retried.
func (st *Store) AddItems(ctx context.Context, items []index.Item) (ids []index.ItemID, added int, err error) {
	if err := st.checkWritable(); err != nil {
		return nil, 0, fmt.Errorf("add items: %w", err)
	}
	for i := range items {
		if err := items[i].Validate(); err != nil {
			return nil, 0, fmt.Errorf("add items: item %d (%s): %w: %v", i, items[i].Source, index.ErrInvalid, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	hashes := make([][]byte, len(items))
	for i := range items {
		hashes[i] = items[i].Hash[:]
	}
	var next counts
	err = retry(ctx, func() error {
		ids, added = make([]index.ItemID, len(items)), 0
		return pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
			var (
				c      counts
				splits []byte
			)
			if err := tx.QueryRow(ctx, "SELECT items, probes, splits FROM simsearch.meta FOR UPDATE").Scan(&c.items, &c.probes, &splits); err != nil {
				return err
			}
			if err := json.Unmarshal(splits, &c.splits); err != nil {
				return fmt.Errorf("%w: split counts: %v", index.ErrCorrupt, err)
			}
			if c.splits == nil {
				c.splits = map[string]int{}
			}
			known := map[index.Hash]index.ItemID{}
			rows, err := tx.Query(ctx, "SELECT hash, id FROM simsearch.items WHERE hash = ANY($1)", hashes)
			if err != nil {
				return err
			}
			var (
				h  []byte
				id int64
			)
			_, err = pgx.ForEachRow(rows, []any{&h, &id}, func() error {
				known[index.Hash(h)] = index.ItemID(id)
				return nil
			})
			if err != nil {
				return err
			}
			var newRows, thumbRows [][]any
			for i := range items {
				it := &items[i]
				if id, ok := known[it.Hash]; ok {
					ids[i] = id
					continue
				}
				if c.items >= math.MaxUint32 {
					return fmt.Errorf("the database holds %d items, the most it can", c.items)
				}
				id := index.ItemID(c.items)
				factors, err := json.Marshal(nonNil(it.Factors))
				if err != nil {
					return err
				}
				labels, err := json.Marshal(nonNil(it.Labels))
				if err != nil {
					return err
				}
				newRows = append(newRows, []any{int64(id), it.Hash[:], it.Source, it.Split, int64(it.SetID), it.Group, string(factors), string(labels)})
				if len(it.Thumbnail) > 0 {
					thumbRows = append(thumbRows, []any{int64(id), it.Thumbnail})
				}
				c.items++
				c.splits[it.Split]++
				if it.SetID != 0 {
					c.probes++
				}
				known[it.Hash] = id
				ids[i] = id
				added++
			}
			if added == 0 {
				next = c
				return nil
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"simsearch", "items"},
				[]string{"id", "hash", "source", "split", "set_id", "grp", "factors", "labels"}, pgx.CopyFromRows(newRows)); err != nil {
				return err
			}
			if len(thumbRows) > 0 {
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"simsearch", "thumbnails"}, []string{"id", "png"}, pgx.CopyFromRows(thumbRows)); err != nil {
					return err
				}
			}
			splitsJSON, err := json.Marshal(c.splits)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE simsearch.meta SET items = $1, probes = $2, splits = $3", c.items, c.probes, string(splitsJSON)); err != nil {
				return err
			}
			if err := inTransaction(ctx, "items"); err != nil {
				return err
			}
			next = c
			return nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("add items to %s: %w", st.path, st.wrap(err))
	}
	st.mu.Lock()
	st.counts = next
	st.mu.Unlock()
	return ids, added, nil
}

// nonNil returns m, or an empty map for nil (stored as {}).
func nonNil[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// itemColumns are the columns scanItem reads.
const itemColumns = "i.id, i.hash, i.source, i.split, i.set_id, i.grp, i.factors, i.labels"

// scanItem reads an item from the columns itemColumns.
func scanItem(row pgx.Row, it *index.Item) error {
	var (
		id, set         int64
		hash            []byte
		factors, labels []byte
	)
	if err := row.Scan(&id, &hash, &it.Source, &it.Split, &set, &it.Group, &factors, &labels); err != nil {
		return err
	}
	if len(hash) != len(it.Hash) {
		return fmt.Errorf("%w: item %d: hash of %d bytes", index.ErrCorrupt, id, len(hash))
	}
	it.ID, it.SetID = index.ItemID(id), uint32(set)
	copy(it.Hash[:], hash)
	it.Factors, it.Labels = nil, nil
	if err := json.Unmarshal(factors, &it.Factors); err != nil {
		return fmt.Errorf("%w: item %d: factors: %v", index.ErrCorrupt, id, err)
	}
	if err := json.Unmarshal(labels, &it.Labels); err != nil {
		return fmt.Errorf("%w: item %d: labels: %v", index.ErrCorrupt, id, err)
	}
	if len(it.Factors) == 0 {
		it.Factors = nil
	}
	if len(it.Labels) == 0 {
		it.Labels = nil
	}
	return nil
}

// Item returns the item with id, without its thumbnail, or an error
// wrapping index.ErrNoItem.
func (st *Store) Item(id index.ItemID) (index.Item, error) {
	items, err := st.Items([]index.ItemID{id})
	if err != nil {
		return index.Item{}, err
	}
	return items[0], nil
}

// Items returns the items with ids, in order, without thumbnails, in one
// query.
func (st *Store) Items(ids []index.ItemID) ([]index.Item, error) {
	if err := st.checkOpen(); err != nil {
		return nil, err
	}
	ctx, cancel := quick()
	defer cancel()
	rows, err := st.pool.Query(ctx, "SELECT u.o, "+itemColumns+` FROM unnest($1::bigint[]) WITH ORDINALITY AS u(x, o)
		JOIN simsearch.items i ON i.id = u.x`, int64s(ids))
	if err != nil {
		return nil, st.wrap(err)
	}
	defer rows.Close()
	out := make([]index.Item, len(ids))
	got := make([]bool, len(ids))
	for rows.Next() {
		var o int64
		var it index.Item
		if err := scanItem(prefixed{rows, &o}, &it); err != nil {
			return nil, st.wrap(err)
		}
		out[o-1], got[o-1] = it, true
	}
	if err := rows.Err(); err != nil {
		return nil, st.wrap(err)
	}
	for i, ok := range got {
		if !ok {
			return nil, fmt.Errorf("item %d: %w", ids[i], index.ErrNoItem)
		}
	}
	return out, nil
}

// prefixed scans one leading column into first, then the rest as asked.
type prefixed struct {
	rows  pgx.Rows
	first any
}

func (p prefixed) Scan(dest ...any) error { return p.rows.Scan(append([]any{p.first}, dest...)...) }

// int64s converts ids for a bigint[] parameter.
func int64s(ids []index.ItemID) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// Thumbnail returns the item's thumbnail PNG, or nil when it has none; an
// error wrapping index.ErrNoItem for an unknown id.
func (st *Store) Thumbnail(id index.ItemID) ([]byte, error) {
	if err := st.checkOpen(); err != nil {
		return nil, err
	}
	ctx, cancel := quick()
	defer cancel()
	var (
		exists bool
		png    []byte
	)
	err := st.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM simsearch.items WHERE id = $1),
		(SELECT png FROM simsearch.thumbnails WHERE id = $1)`, int64(id)).Scan(&exists, &png)
	if err != nil {
		return nil, st.wrap(err)
	}
	if !exists {
		return nil, fmt.Errorf("item %d: %w", id, index.ErrNoItem)
	}
	return png, nil
}

// LookupHash returns the id of the item with hash h, if stored.
func (st *Store) LookupHash(h index.Hash) (index.ItemID, bool, error) {
	ids, found, err := st.LookupHashes([]index.Hash{h})
	if err != nil {
		return 0, false, err
	}
	return ids[0], found[0], nil
}

// LookupHashes looks up many hashes in one query.
func (st *Store) LookupHashes(hashes []index.Hash) (ids []index.ItemID, found []bool, err error) {
	if err := st.checkOpen(); err != nil {
		return nil, nil, err
	}
	ctx, cancel := quick()
	defer cancel()
	list := make([][]byte, len(hashes))
	for i := range hashes {
		list[i] = hashes[i][:]
	}
	rows, err := st.pool.Query(ctx, `SELECT u.o, i.id FROM unnest($1::bytea[]) WITH ORDINALITY AS u(h, o)
		JOIN simsearch.items i ON i.hash = u.h`, list)
	if err != nil {
		return nil, nil, st.wrap(err)
	}
	ids, found = make([]index.ItemID, len(hashes)), make([]bool, len(hashes))
	var o, id int64
	_, err = pgx.ForEachRow(rows, []any{&o, &id}, func() error {
		ids[o-1], found[o-1] = index.ItemID(id), true
		return nil
	})
	if err != nil {
		return nil, nil, st.wrap(err)
	}
	return ids, found, nil
}

// ForEachItem calls fn with every item in id order, without thumbnails,
// as they stream from one query. It stops at fn's first error, or when
// ctx is done. fn may use the store (it runs on another connection).
func (st *Store) ForEachItem(ctx context.Context, fn func(index.Item) error) error {
	if err := st.checkOpen(); err != nil {
		return err
	}
	rows, err := st.pool.Query(ctx, "SELECT "+itemColumns+" FROM simsearch.items i ORDER BY i.id")
	if err != nil {
		return st.wrap(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var it index.Item
		if err := scanItem(rows, &it); err != nil {
			return st.wrap(err)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return st.wrap(rows.Err())
}

// Select returns the ids of the items that f keeps, in id order.
func (st *Store) Select(f index.Filter) ([]index.ItemID, error) {
	if err := st.checkOpen(); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := quick()
	defer cancel()
	var q query
	where := q.filter(&f, "id", st.current().probes > 0, true)
	rows, err := st.pool.Query(ctx, "SELECT id FROM simsearch.items WHERE "+where+" ORDER BY id", q.args...)
	if err != nil {
		return nil, st.wrap(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index.ItemID, error) {
		var id int64
		err := r.Scan(&id)
		return index.ItemID(id), err
	})
	if err != nil {
		return nil, st.wrap(err)
	}
	return out, nil
}

// errNotFound is returned by helpers for a missing row.
var errNotFound = errors.New("not found")
