package index

import (
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// missingLabel marks an item without a value for a label in a catalog
// column.
const missingLabel = math.MinInt32

// catalog holds, in memory and by columns, the item fields that filters
// test: split, set, group and labels. A catalog is an immutable snapshot
// of items [0, n): extending it builds a new one that may share backing
// arrays, appending only beyond n, so readers of the old one are never
// disturbed.
type catalog struct {
	n          int
	split      []uint8  // code into splitNames
	splitNames []string // by code
	set        []uint32
	group      []uint32 // code into groupNames; 0 means none
	groupNames []string // by code; groupNames[0] is ""
	labels     map[string][]int32

	// Used only while extending, under DB.catalogMu.
	splitCode map[string]uint8
	groupCode map[string]uint32
}

// loadCatalog returns a catalog covering every stored item, reading only
// the items added since the last one.
func (db *DB) loadCatalog() (*catalog, error) {
	want := db.counts.Load().items
	if c := db.catalog.Load(); c != nil && c.n >= want {
		return c, nil
	}
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	old := db.catalog.Load()
	if old != nil && old.n >= want {
		return old, nil
	}
	c := &catalog{groupNames: []string{""}, labels: map[string][]int32{}, splitCode: map[string]uint8{}, groupCode: map[string]uint32{"": 0}}
	if old != nil {
		*c = *old
		c.labels = make(map[string][]int32, len(old.labels))
		for name, col := range old.labels {
			c.labels[name] = col
		}
	}
	var (
		splitCode uint8
		setID     uint32
		groupCode uint32
		labels    []struct {
			name  string
			value int32
		}
		visitErr error
	)
	visitor := &itemVisitor{
		split: func(s []byte) {
			code, ok := c.splitCode[string(s)]
			if !ok {
				if len(c.splitNames) > maxSplits {
					visitErr = fmt.Errorf("%w: more than %d splits", ErrCorrupt, maxSplits)
					return
				}
				code = uint8(len(c.splitNames))
				c.splitNames = append(c.splitNames, string(s))
				c.splitCode[string(s)] = code
			}
			splitCode = code
		},
		setID: func(id uint32) { setID = id },
		group: func(s []byte) {
			code, ok := c.groupCode[string(s)]
			if !ok {
				code = uint32(len(c.groupNames))
				c.groupNames = append(c.groupNames, string(s))
				c.groupCode[string(s)] = code
			}
			groupCode = code
		},
		label: func(name []byte, v int32) {
			labels = append(labels, struct {
				name  string
				value int32
			}{string(name), v})
		},
	}
	err := db.view(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketItems).Cursor()
		for k, v := cur.Seek(itemKey(ItemID(c.n))); k != nil && c.n < want; k, v = cur.Next() {
			if len(k) != 4 || int(binary.BigEndian.Uint32(k)) != c.n {
				return fmt.Errorf("%w: item %d missing", ErrCorrupt, c.n)
			}
			labels = labels[:0]
			if err := visitItemRecord(v, visitor); err != nil {
				return fmt.Errorf("item %d: %w", c.n, err)
			}
			if visitErr != nil {
				return visitErr
			}
			c.split = append(c.split, splitCode)
			c.set = append(c.set, setID)
			c.group = append(c.group, groupCode)
			for _, l := range labels {
				col, ok := c.labels[l.name]
				if !ok {
					col = make([]int32, c.n, max(c.n+1, want))
					for i := range col {
						col[i] = missingLabel
					}
				}
				col = append(col, l.value)
				c.labels[l.name] = col
			}
			c.n++
			// Pad the columns of labels this item lacks.
			for name, col := range c.labels {
				if len(col) < c.n {
					c.labels[name] = append(col, missingLabel)
				}
			}
		}
		if c.n < want {
			return fmt.Errorf("%w: %d items stored, %d counted", ErrCorrupt, c.n, want)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read items of %s: %w", db.path, err)
	}
	db.catalog.Store(c)
	return c, nil
}
