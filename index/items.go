package index

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math"

	bolt "go.etcd.io/bbolt"
)

// itemKey is the bbolt key of an item: its id, 4 bytes big-endian, so
// that keys sort in id order.
func itemKey(id ItemID) []byte { return binary.BigEndian.AppendUint32(nil, uint32(id)) }

// readCounts decodes the counts kept in the meta bucket.
func readCounts(meta *bolt.Bucket) (*itemCounts, error) {
	c := &itemCounts{splits: map[string]int{}}
	if v := meta.Get(keyItemCount); v != nil {
		if len(v) != 4 {
			return nil, fmt.Errorf("%w: item count of %d bytes", ErrCorrupt, len(v))
		}
		c.items = int(binary.BigEndian.Uint32(v))
	}
	if v := meta.Get(keyProbeCount); v != nil {
		if len(v) != 4 {
			return nil, fmt.Errorf("%w: probe count of %d bytes", ErrCorrupt, len(v))
		}
		c.probes = int(binary.BigEndian.Uint32(v))
	}
	if v := meta.Get(keySplits); v != nil {
		splits, err := decodeSplitCounts(v)
		if err != nil {
			return nil, err
		}
		c.splits = splits
	}
	return c, nil
}

// decodeSplitCounts decodes the items-per-split record: a count, then a
// name (uvarint length, bytes) and a uvarint count each.
func decodeSplitCounts(b []byte) (map[string]int, error) {
	splits := map[string]int{}
	r := recordReader{b: b}
	n := r.uvarint()
	if r.err == nil && n > maxSplits {
		return nil, fmt.Errorf("%w: %d splits", ErrCorrupt, n)
	}
	for range n {
		name := r.stringBytes(maxSplitLen)
		count := r.uvarint()
		if r.err != nil {
			break
		}
		splits[string(name)] = int(min(count, math.MaxUint32))
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: split counts", ErrCorrupt)
	}
	return splits, nil
}

// writeCounts stores c in the meta bucket.
func writeCounts(meta *bolt.Bucket, c *itemCounts) error {
	if err := meta.Put(keyItemCount, binary.BigEndian.AppendUint32(nil, uint32(c.items))); err != nil {
		return err
	}
	if err := meta.Put(keyProbeCount, binary.BigEndian.AppendUint32(nil, uint32(c.probes))); err != nil {
		return err
	}
	b := binary.AppendUvarint(nil, uint64(len(c.splits)))
	for _, name := range sortedKeys(c.splits) {
		b = appendString(b, name)
		b = binary.AppendUvarint(b, uint64(c.splits[name]))
	}
	return meta.Put(keySplits, b)
}

// AddItems stores items in one transaction and returns their ids, one per
// item in order, and how many were new. An item whose Hash is already
// stored (or appears earlier in items) is not stored again: its existing
// id is returned and the rest of it is ignored. Either every item is
// stored or, on error, none is. Invalid fields are an error wrapping
// ErrInvalid that names the item.
func (db *DB) AddItems(ctx context.Context, items []Item) (ids []ItemID, added int, err error) {
	if err := db.checkWritable(); err != nil {
		return nil, 0, fmt.Errorf("add items: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	for i := range items {
		if err := items[i].validate(); err != nil {
			return nil, 0, fmt.Errorf("add items: item %d (%s): %w: %v", i, items[i].Source, ErrInvalid, err)
		}
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if err := db.checkOpen(); err != nil {
		return nil, 0, err
	}

	old := db.counts.Load()
	counts := &itemCounts{items: old.items, probes: old.probes, splits: maps.Clone(old.splits)}
	ids = make([]ItemID, len(items))
	err = db.update(func(tx *bolt.Tx) error {
		itemsBucket := tx.Bucket(bucketItems)
		hashes := tx.Bucket(bucketHashes)
		thumbs := tx.Bucket(bucketThumbs)
		inBatch := map[Hash]ItemID{}
		for i := range items {
			it := &items[i]
			if v := hashes.Get(it.Hash[:]); v != nil {
				if len(v) != 4 {
					return fmt.Errorf("%w: hash entry of %d bytes", ErrCorrupt, len(v))
				}
				ids[i] = ItemID(binary.BigEndian.Uint32(v))
				continue
			}
			if id, ok := inBatch[it.Hash]; ok {
				ids[i] = id
				continue
			}
			if counts.items >= math.MaxUint32 {
				return fmt.Errorf("the database holds %d items, the most it can", counts.items)
			}
			if _, ok := counts.splits[it.Split]; !ok && len(counts.splits) >= maxSplits {
				return fmt.Errorf("item %d: %w: more than %d different splits", i, ErrInvalid, maxSplits)
			}
			id := ItemID(counts.items)
			key := itemKey(id)
			if err := itemsBucket.Put(key, appendItemRecord(nil, it)); err != nil {
				return err
			}
			if err := hashes.Put(bytes.Clone(it.Hash[:]), key); err != nil {
				return err
			}
			if len(it.Thumbnail) > 0 {
				if err := thumbs.Put(key, bytes.Clone(it.Thumbnail)); err != nil {
					return err
				}
			}
			counts.items++
			counts.splits[it.Split]++
			if it.SetID != 0 {
				counts.probes++
			}
			inBatch[it.Hash] = id
			ids[i] = id
			added++
		}
		if added == 0 {
			return nil
		}
		inTransaction("items")
		return writeCounts(tx.Bucket(bucketMeta), counts)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("add items to %s: %w", db.path, err)
	}
	db.counts.Store(counts)
	return ids, added, nil
}

// Len returns the number of items.
func (db *DB) Len() int { return db.counts.Load().items }

// SplitCounts returns the number of items in each split.
func (db *DB) SplitCounts() map[string]int { return maps.Clone(db.counts.Load().splits) }

// ProbeCount returns the number of items that belong to a probe set.
func (db *DB) ProbeCount() int { return db.counts.Load().probes }

// Item returns the item with id, without its thumbnail. It returns an
// error wrapping ErrNoItem for an id the database does not hold.
func (db *DB) Item(id ItemID) (Item, error) {
	items, err := db.Items([]ItemID{id})
	if err != nil {
		return Item{}, err
	}
	return items[0], nil
}

// Items returns the items with ids, in order, without thumbnails, read in
// one transaction.
func (db *DB) Items(ids []ItemID) ([]Item, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	out := make([]Item, len(ids))
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketItems)
		for i, id := range ids {
			v := b.Get(itemKey(id))
			if v == nil {
				return fmt.Errorf("item %d: %w", id, ErrNoItem)
			}
			out[i].ID = id
			if err := decodeItemRecord(v, &out[i]); err != nil {
				return fmt.Errorf("item %d: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Thumbnail returns a copy of the item's thumbnail PNG, or nil when it has
// none. It returns an error wrapping ErrNoItem for an unknown id.
func (db *DB) Thumbnail(id ItemID) ([]byte, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	if int(id) >= db.Len() {
		return nil, fmt.Errorf("item %d: %w", id, ErrNoItem)
	}
	var out []byte
	err := db.view(func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bucketThumbs).Get(itemKey(id)))
		return nil
	})
	return out, err
}

// LookupHash returns the id of the item with hash h, if stored.
func (db *DB) LookupHash(h Hash) (ItemID, bool, error) {
	ids, found, err := db.LookupHashes([]Hash{h})
	if err != nil {
		return 0, false, err
	}
	return ids[0], found[0], nil
}

// LookupHashes looks up many hashes in one transaction: ids[i] is the id of
// the item with hashes[i] when found[i].
func (db *DB) LookupHashes(hashes []Hash) (ids []ItemID, found []bool, err error) {
	if err := db.checkOpen(); err != nil {
		return nil, nil, err
	}
	ids = make([]ItemID, len(hashes))
	found = make([]bool, len(hashes))
	err = db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHashes)
		for i := range hashes {
			v := b.Get(hashes[i][:])
			if v == nil {
				continue
			}
			if len(v) != 4 {
				return fmt.Errorf("%w: hash entry of %d bytes", ErrCorrupt, len(v))
			}
			ids[i], found[i] = ItemID(binary.BigEndian.Uint32(v)), true
		}
		return nil
	})
	return ids, found, err
}

// ForEachItem calls fn with every item in id order, without thumbnails,
// inside one read transaction. fn must not write to the database (a write
// waits for the read transaction: a deadlock). It stops at fn's first
// error, or when ctx is done, and returns it.
func (db *DB) ForEachItem(ctx context.Context, fn func(Item) error) error {
	if err := db.checkOpen(); err != nil {
		return err
	}
	return db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketItems).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if len(k) != 4 {
				return fmt.Errorf("%w: item key of %d bytes", ErrCorrupt, len(k))
			}
			it := Item{ID: ItemID(binary.BigEndian.Uint32(k))}
			if err := decodeItemRecord(v, &it); err != nil {
				return fmt.Errorf("item %d: %w", it.ID, err)
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	})
}

// Select returns the ids of the items that f keeps, in id order (see
// Filter for the rules, including that probe items are left out unless f
// names them).
func (db *DB) Select(f Filter) ([]ItemID, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	cat, err := db.loadCatalog()
	if err != nil {
		return nil, err
	}
	p := compileFilter(&f, cat, db.counts.Load().probes > 0)
	var out []ItemID
	for id := range cat.n {
		if p.match(uint32(id)) {
			out = append(out, ItemID(id))
		}
	}
	return out, nil
}
