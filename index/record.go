package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// itemRecordVersion is the first byte of every stored item record.
//
// Layout (v1): version; source (uvarint length, bytes); hash (32 bytes);
// split (length, bytes); set id (uvarint); group (length, bytes); factor
// count, then name (length, bytes) and float64 (little-endian) each; label
// count, then name and value (varint) each. Names are written sorted.
const itemRecordVersion = 1

// appendItemRecord appends it's stored form (without id and thumbnail).
func appendItemRecord(b []byte, it *Item) []byte {
	b = append(b, itemRecordVersion)
	b = appendString(b, it.Source)
	b = append(b, it.Hash[:]...)
	b = appendString(b, it.Split)
	b = binary.AppendUvarint(b, uint64(it.SetID))
	b = appendString(b, it.Group)
	b = binary.AppendUvarint(b, uint64(len(it.Factors)))
	for _, name := range sortedKeys(it.Factors) {
		b = appendString(b, name)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(it.Factors[name]))
	}
	b = binary.AppendUvarint(b, uint64(len(it.Labels)))
	for _, name := range sortedKeys(it.Labels) {
		b = appendString(b, name)
		b = binary.AppendVarint(b, int64(it.Labels[name]))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// recordReader decodes a record, keeping the first error.
type recordReader struct {
	b   []byte
	err error
}

var errShort = errors.New("record ends early")

func (r *recordReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *recordReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail(errShort)
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// stringBytes reads a length-prefixed string without copying it.
func (r *recordReader) stringBytes(limit int) []byte {
	n := r.uvarint()
	if r.err == nil && n > uint64(limit) {
		r.fail(fmt.Errorf("string of %d bytes, at most %d allowed", n, limit))
		return nil
	}
	return r.bytes(n)
}

func (r *recordReader) u64() uint64 {
	b := r.bytes(8)
	if r.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (r *recordReader) count() int {
	n := r.uvarint()
	if r.err == nil && n > maxNamedValues {
		r.fail(fmt.Errorf("%d named values, at most %d allowed", n, maxNamedValues))
		return 0
	}
	return int(n)
}

// itemVisitor receives the fields of a record as decodeItemRecord reads
// them. The byte slices alias the record and are valid only during the
// call. A nil function skips its field.
type itemVisitor struct {
	source func([]byte)
	hash   func([]byte)
	split  func([]byte)
	setID  func(uint32)
	group  func([]byte)
	factor func(name []byte, v float64)
	label  func(name []byte, v int32)
}

// visitItemRecord decodes a stored item record, calling v's functions. It
// returns an error wrapping ErrCorrupt for a record it cannot read; it
// never panics, whatever the bytes.
func visitItemRecord(b []byte, v *itemVisitor) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty item record", ErrCorrupt)
	}
	if b[0] != itemRecordVersion {
		return fmt.Errorf("%w: item record version %d, this build reads %d", ErrCorrupt, b[0], itemRecordVersion)
	}
	r := recordReader{b: b[1:]}
	source := r.stringBytes(maxSourceLen)
	hash := r.bytes(32)
	split := r.stringBytes(maxSplitLen)
	set := r.uvarint()
	if r.err == nil && set > math.MaxUint32 {
		r.fail(fmt.Errorf("set id %d out of range", set))
	}
	group := r.stringBytes(maxNameLen)
	if r.err != nil {
		return fmt.Errorf("%w: item record: %v", ErrCorrupt, r.err)
	}
	if len(split) == 0 {
		return fmt.Errorf("%w: item record without a split", ErrCorrupt)
	}
	if v.source != nil {
		v.source(source)
	}
	if v.hash != nil {
		v.hash(hash)
	}
	if v.split != nil {
		v.split(split)
	}
	if v.setID != nil {
		v.setID(uint32(set))
	}
	if v.group != nil {
		v.group(group)
	}
	for range r.count() {
		name := r.stringBytes(maxNameLen)
		value := math.Float64frombits(r.u64())
		if r.err != nil {
			break
		}
		if len(name) == 0 {
			r.fail(errors.New("factor without a name"))
			break
		}
		if v.factor != nil {
			v.factor(name, value)
		}
	}
	for range r.count() {
		name := r.stringBytes(maxNameLen)
		value := r.varint()
		if r.err != nil {
			break
		}
		if len(name) == 0 || value <= math.MinInt32 || value > math.MaxInt32 {
			r.fail(fmt.Errorf("label %q = %d", name, value))
			break
		}
		if v.label != nil {
			v.label(name, int32(value))
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("%d bytes after the end", len(r.b)))
	}
	if r.err != nil {
		return fmt.Errorf("%w: item record: %v", ErrCorrupt, r.err)
	}
	return nil
}

// decodeItemRecord decodes a stored item record into it (all fields but
// ID and Thumbnail).
func decodeItemRecord(b []byte, it *Item) error {
	*it = Item{ID: it.ID}
	return visitItemRecord(b, &itemVisitor{
		source: func(s []byte) { it.Source = string(s) },
		hash:   func(h []byte) { copy(it.Hash[:], h) },
		split:  func(s []byte) { it.Split = string(s) },
		setID:  func(id uint32) { it.SetID = id },
		group:  func(s []byte) { it.Group = string(s) },
		factor: func(name []byte, v float64) {
			if it.Factors == nil {
				it.Factors = map[string]float64{}
			}
			it.Factors[string(name)] = v
		},
		label: func(name []byte, v int32) {
			if it.Labels == nil {
				it.Labels = map[string]int{}
			}
			it.Labels[string(name)] = int(v)
		},
	})
}
