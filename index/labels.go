package index

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// LabelKind says what the values of a label are.
type LabelKind uint8

// The kinds of label.
const (
	// Categorical labels are classes: an item's label value is a class
	// number, 0 … len(Classes)−1.
	Categorical LabelKind = 1
	// Continuous labels are quantities: an item stores the value as a
	// factor (Item.Factors) and its quantile bin as the label's class.
	Continuous LabelKind = 2
)

// String returns "categorical" or "continuous".
func (k LabelKind) String() string {
	switch k {
	case Categorical:
		return "categorical"
	case Continuous:
		return "continuous"
	}
	return fmt.Sprintf("LabelKind(%d)", uint8(k))
}

// MarshalText writes the kind as String does.
func (k LabelKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// LabelInfo describes one label of a store: its kind and the names of its
// classes. It is a plain value.
type LabelInfo struct {
	Name string    `json:"name"`
	Kind LabelKind `json:"kind"`
	// Classes names the classes by number: the values as written in the
	// labels file for a categorical label, the bins ("< 0.42") for a
	// continuous one.
	Classes []string `json:"classes"`
	// Edges, for a continuous label, are the bins' boundaries in
	// increasing order: a value v is in class sort.SearchFloat64s-style
	// bin i, the number of edges ≤ v. len(Edges) == len(Classes) − 1.
	Edges []float64 `json:"edges,omitempty"`
	// Grid marks a generative factor of a factorial dataset (a dSprites
	// npz's latents): the grid labels of an item determine its image, so
	// items equal in all grid labels but one are interventions on it.
	Grid bool `json:"grid,omitempty"`
}

// Bin returns the class of value v of a continuous label: the number of
// edges at or below v.
func (l LabelInfo) Bin(v float64) int {
	n := 0
	for _, e := range l.Edges {
		if v >= e {
			n++
		}
	}
	return n
}

// LabelSchema names the labels of a store that are not the colored
// shapes' own: kinds and class names, so that reports and filters can
// show and accept class names. It is a plain value.
type LabelSchema struct {
	Labels []LabelInfo `json:"labels"`
}

// Label returns the label called name, if the schema has it.
func (s LabelSchema) Label(name string) (LabelInfo, bool) {
	for _, l := range s.Labels {
		if l.Name == name {
			return l, true
		}
	}
	return LabelInfo{}, false
}

// Merge returns s with the labels of o: a new label is added; a
// categorical label that s has gains o's new class names at the end
// (numbers already given keep their class); a continuous one keeps s's
// bins. Labels of one name and two kinds are an error wrapping
// ErrInvalid.
func (s LabelSchema) Merge(o LabelSchema) (LabelSchema, error) {
	out := LabelSchema{Labels: slices.Clone(s.Labels)}
	for _, l := range o.Labels {
		i := slices.IndexFunc(out.Labels, func(m LabelInfo) bool { return m.Name == l.Name })
		if i < 0 {
			out.Labels = append(out.Labels, l)
			continue
		}
		have := out.Labels[i]
		if have.Kind != l.Kind {
			return s, fmt.Errorf("%w: label %q is %s in the store, not %s", ErrInvalid, l.Name, have.Kind, l.Kind)
		}
		if l.Kind == Categorical {
			classes := slices.Clone(have.Classes)
			for _, c := range l.Classes {
				if !slices.Contains(classes, c) {
					classes = append(classes, c)
				}
			}
			have.Classes = classes
			have.Grid = have.Grid && l.Grid
			out.Labels[i] = have
		}
	}
	return out, out.validate()
}

// labelSchemaVersion is the first byte of the stored label schema.
//
// Layout (v1): version; label count; per label: name (uvarint length,
// bytes), kind (byte), flags (byte: 1 = grid), class count, class names
// (length, bytes) each, edge count, edges (float64 little-endian) each.
const labelSchemaVersion = 1

// Limits of a label schema.
const (
	// MaxClasses is the most classes a categorical label may have.
	MaxClasses     = 1000
	maxClassName   = 255
	maxSchemaLabel = maxNamedValues
)

// validate checks the schema's fields.
func (s LabelSchema) validate() error {
	if len(s.Labels) > maxSchemaLabel {
		return fmt.Errorf("%w: %d labels, at most %d", ErrInvalid, len(s.Labels), maxSchemaLabel)
	}
	seen := map[string]bool{}
	for _, l := range s.Labels {
		if err := checkName(l.Name); err != nil {
			return fmt.Errorf("%w: label %w", ErrInvalid, err)
		}
		if seen[l.Name] {
			return fmt.Errorf("%w: label %q twice", ErrInvalid, l.Name)
		}
		seen[l.Name] = true
		switch {
		case l.Kind != Categorical && l.Kind != Continuous:
			return fmt.Errorf("%w: label %q of unknown kind %d", ErrInvalid, l.Name, l.Kind)
		case len(l.Classes) > MaxClasses:
			return fmt.Errorf("%w: label %q has %d classes, at most %d", ErrInvalid, l.Name, len(l.Classes), MaxClasses)
		case l.Kind == Continuous && len(l.Edges) != max(len(l.Classes)-1, 0):
			return fmt.Errorf("%w: label %q has %d bins and %d edges", ErrInvalid, l.Name, len(l.Classes), len(l.Edges))
		case l.Kind == Categorical && len(l.Edges) > 0:
			return fmt.Errorf("%w: categorical label %q with bin edges", ErrInvalid, l.Name)
		}
		for _, c := range l.Classes {
			if len(c) > maxClassName || !utf8.ValidString(c) {
				return fmt.Errorf("%w: label %q: class name %q: want at most %d bytes of UTF-8", ErrInvalid, l.Name, c, maxClassName)
			}
		}
		for i, e := range l.Edges {
			if math.IsNaN(e) || math.IsInf(e, 0) || (i > 0 && e <= l.Edges[i-1]) {
				return fmt.Errorf("%w: label %q: bin edges %v are not finite and increasing", ErrInvalid, l.Name, l.Edges)
			}
		}
	}
	return nil
}

func appendLabelSchema(b []byte, s LabelSchema) []byte {
	b = append(b, labelSchemaVersion)
	b = binary.AppendUvarint(b, uint64(len(s.Labels)))
	for _, l := range s.Labels {
		b = appendString(b, l.Name)
		var flags byte
		if l.Grid {
			flags |= 1
		}
		b = append(b, byte(l.Kind), flags)
		b = binary.AppendUvarint(b, uint64(len(l.Classes)))
		for _, c := range l.Classes {
			b = appendString(b, c)
		}
		b = binary.AppendUvarint(b, uint64(len(l.Edges)))
		for _, e := range l.Edges {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e))
		}
	}
	return b
}

// decodeLabelSchema decodes a stored label schema. It returns an error
// wrapping ErrCorrupt for bytes it cannot read, ErrVersion for a schema
// of another version; it never panics.
func decodeLabelSchema(b []byte) (LabelSchema, error) {
	var s LabelSchema
	if len(b) == 0 {
		return s, fmt.Errorf("%w: empty label schema", ErrCorrupt)
	}
	if b[0] != labelSchemaVersion {
		return s, fmt.Errorf("%w: label schema version %d, this build reads %d", ErrVersion, b[0], labelSchemaVersion)
	}
	r := recordReader{b: b[1:]}
	n := r.count()
	for range n {
		var l LabelInfo
		l.Name = string(r.stringBytes(maxNameLen))
		kf := r.bytes(2)
		if r.err != nil {
			break
		}
		l.Kind, l.Grid = LabelKind(kf[0]), kf[1]&1 != 0
		classes := r.uvarint()
		if r.err == nil && classes > MaxClasses {
			r.fail(fmt.Errorf("%d classes", classes))
		}
		for range classes {
			if r.err != nil {
				break
			}
			l.Classes = append(l.Classes, string(r.stringBytes(maxClassName)))
		}
		edges := r.uvarint()
		if r.err == nil && edges > MaxClasses {
			r.fail(fmt.Errorf("%d edges", edges))
		}
		for range edges {
			if r.err != nil {
				break
			}
			l.Edges = append(l.Edges, math.Float64frombits(r.u64()))
		}
		if r.err != nil {
			break
		}
		s.Labels = append(s.Labels, l)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("%d bytes after the end", len(r.b)))
	}
	if r.err != nil {
		return LabelSchema{}, fmt.Errorf("%w: label schema: %v", ErrCorrupt, r.err)
	}
	if err := s.validate(); err != nil {
		return LabelSchema{}, fmt.Errorf("%w: label schema: %v", ErrCorrupt, err)
	}
	return s, nil
}

var keyLabelSchema = []byte("labels")

// LabelSchema returns the store's label schema; an empty one when no
// labels file was ever ingested.
func (db *DB) LabelSchema() (LabelSchema, error) {
	if err := db.checkOpen(); err != nil {
		return LabelSchema{}, err
	}
	var s LabelSchema
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyLabelSchema)
		if v == nil {
			return nil
		}
		var err error
		s, err = decodeLabelSchema(v)
		return err
	})
	if err != nil {
		return LabelSchema{}, fmt.Errorf("read the label schema of %s: %w", db.path, err)
	}
	return s, nil
}

// LabelUpdate sets labels and factors of a stored item: each named value
// is set (added or replaced); the item's other labels and factors stay.
type LabelUpdate struct {
	ID      ItemID
	Labels  map[string]int
	Factors map[string]float64
}

// SetLabels merges schema into the store's label schema (see
// LabelSchema.Merge) and applies updates to stored items, all in one
// transaction: either everything is stored or, on error, nothing. It
// returns how many items changed (an update that sets the values an item
// has already changes nothing). An update of an unknown item is an error
// wrapping ErrNoItem; invalid values one wrapping ErrInvalid.
func (db *DB) SetLabels(ctx context.Context, schema LabelSchema, updates []LabelUpdate) (changed int, err error) {
	if err := db.checkWritable(); err != nil {
		return 0, fmt.Errorf("set labels: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := schema.validate(); err != nil {
		return 0, fmt.Errorf("set labels: %w", err)
	}
	for _, u := range updates {
		probe := Item{Split: "x", Labels: u.Labels, Factors: u.Factors}
		if err := probe.validate(); err != nil {
			return 0, fmt.Errorf("set labels of item %d: %w: %v", u.ID, ErrInvalid, err)
		}
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if err := db.checkOpen(); err != nil {
		return 0, err
	}
	err = db.update(func(tx *bolt.Tx) error {
		changed = 0
		meta := tx.Bucket(bucketMeta)
		if len(schema.Labels) > 0 {
			var stored LabelSchema
			if v := meta.Get(keyLabelSchema); v != nil {
				var err error
				if stored, err = decodeLabelSchema(v); err != nil {
					return err
				}
			}
			merged, err := stored.Merge(schema)
			if err != nil {
				return err
			}
			if err := meta.Put(keyLabelSchema, appendLabelSchema(nil, merged)); err != nil {
				return err
			}
		}
		items := tx.Bucket(bucketItems)
		for _, u := range updates {
			key := itemKey(u.ID)
			v := items.Get(key)
			if v == nil {
				return fmt.Errorf("item %d: %w", u.ID, ErrNoItem)
			}
			it := Item{ID: u.ID}
			if err := decodeItemRecord(v, &it); err != nil {
				return fmt.Errorf("item %d: %w", u.ID, err)
			}
			if !u.Apply(&it) {
				continue
			}
			changed++
			if err := it.validate(); err != nil {
				return fmt.Errorf("item %d: %w: %v", u.ID, ErrInvalid, err)
			}
			if err := items.Put(key, appendItemRecord(nil, &it)); err != nil {
				return err
			}
		}
		if changed > 0 {
			inTransaction("labels")
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("set labels in %s: %w", db.path, err)
	}
	if changed > 0 {
		// The catalog holds labels by item: rebuild it on next use.
		db.catalogMu.Lock()
		db.catalog.Store(nil)
		db.catalogMu.Unlock()
	}
	return changed, nil
}

// sameValues reports whether have already holds every value of set.
func sameValues[V comparable](have, set map[string]V) bool {
	for k, v := range set {
		if w, ok := have[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// UnmarshalText reads the kind as String writes it.
func (k *LabelKind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "categorical":
		*k = Categorical
	case "continuous":
		*k = Continuous
	default:
		return fmt.Errorf("%w: label kind %q", ErrInvalid, b)
	}
	return nil
}

// Validate checks the schema as SetLabels does: names and class names of
// UTF-8 within the limits, known kinds, increasing finite bin edges. The
// errors wrap ErrInvalid.
func (s LabelSchema) Validate() error { return s.validate() }

// Apply sets the values of u on it (see LabelUpdate) and reports whether
// that changed it. The maps of it are replaced, not modified.
func (u LabelUpdate) Apply(it *Item) bool {
	if sameValues(it.Labels, u.Labels) && sameValues(it.Factors, u.Factors) {
		return false
	}
	if len(u.Labels) > 0 {
		labels := maps.Clone(it.Labels)
		if labels == nil {
			labels = map[string]int{}
		}
		maps.Copy(labels, u.Labels)
		it.Labels = labels
	}
	if len(u.Factors) > 0 {
		factors := maps.Clone(it.Factors)
		if factors == nil {
			factors = map[string]float64{}
		}
		maps.Copy(factors, u.Factors)
		it.Factors = factors
	}
	return true
}
