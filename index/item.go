package index

import (
	"encoding/hex"
	"fmt"
	"math"
	"unicode/utf8"
)

// ItemID numbers the items of a database densely, 0, 1, 2, … in the order
// they were added. Ids are never reused.
type ItemID uint32

// Hash is the SHA-256 of an item's content. It identifies the item: adding
// an item whose hash is already stored returns the stored item's id and
// changes nothing, which is what makes ingestion resumable. A caller that
// needs the same image twice as two items (the same picture in two probe
// sets) must fold what tells them apart into the hash.
type Hash [32]byte

// String returns the hash in hexadecimal.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// The usual splits. Split is a free string; these are the names the other
// packages use.
const (
	SplitTrain = "train"
	SplitVal   = "val"
	SplitProbe = "probe"
)

// Item is one image: where it came from, what it shows (its factors and
// labels, when known), which split it belongs to and, for probe items, its
// set. Items are stored once per database and shared by all spaces.
//
// An Item is a plain value: the database copies what it stores and returns
// new Items from reads, so a caller owns the ones it holds (their maps are
// shared between copies of one Item).
type Item struct {
	// ID is assigned by AddItems; it is ignored on input.
	ID ItemID `json:"id"`
	// Source says where the image came from: a file path, or a generator
	// spec with the item's index.
	Source string `json:"source"`
	// Hash identifies the content (see Hash).
	Hash Hash `json:"-"`
	// Split is the item's split, such as SplitTrain or SplitVal; it must
	// not be empty.
	Split string `json:"split"`
	// SetID is the probe set the item belongs to, or 0 for none. Items of
	// a set are left out of ordinary queries (see Filter).
	SetID uint32 `json:"set_id,omitempty"`
	// Group names the experiment a probe set belongs to ("shape
	// interventions"); empty for items without a set.
	Group string `json:"group,omitempty"`
	// Factors are the item's continuous factors of variation by name
	// (hue, radius, …), when known.
	Factors map[string]float64 `json:"factors,omitempty"`
	// Labels are the item's class labels by name (shape, colour, …), when
	// known. Values must fit in an int32 and not be math.MinInt32.
	Labels map[string]int `json:"labels,omitempty"`
	// Thumbnail is a small PNG of the image, for neighbour grids. It is
	// stored apart from the rest and returned only by DB.Thumbnail.
	Thumbnail []byte `json:"-"`
}

// Limits on item fields, checked by AddItems.
const (
	maxSourceLen    = 64 << 10
	maxNameLen      = 255
	maxSplitLen     = 64
	maxNamedValues  = 1024
	maxThumbnailLen = 1 << 20
	maxSplits       = 255
)

// Validate checks an item's fields against the limits every store keeps
// (AddItems calls it): a non-empty split, names and sizes within bounds,
// finite factors, labels that fit an int32.
func (it *Item) Validate() error { return it.validate() }

// validate checks an item before it is stored.
func (it *Item) validate() error {
	switch {
	case len(it.Source) > maxSourceLen:
		return fmt.Errorf("source of %d bytes is longer than %d", len(it.Source), maxSourceLen)
	case it.Split == "" || len(it.Split) > maxSplitLen || !utf8.ValidString(it.Split):
		return fmt.Errorf("split %q: want 1 to %d bytes of UTF-8", it.Split, maxSplitLen)
	case len(it.Group) > maxNameLen || !utf8.ValidString(it.Group):
		return fmt.Errorf("group %q: want at most %d bytes of UTF-8", it.Group, maxNameLen)
	case it.Group != "" && it.SetID == 0:
		return fmt.Errorf("group %q given without a set id", it.Group)
	case len(it.Factors) > maxNamedValues || len(it.Labels) > maxNamedValues:
		return fmt.Errorf("more than %d factors or labels", maxNamedValues)
	case len(it.Thumbnail) > maxThumbnailLen:
		return fmt.Errorf("thumbnail of %d bytes is larger than %d", len(it.Thumbnail), maxThumbnailLen)
	}
	for name, v := range it.Factors {
		if err := checkName(name); err != nil {
			return fmt.Errorf("factor %w", err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("factor %q is %v", name, v)
		}
	}
	for name, v := range it.Labels {
		if err := checkName(name); err != nil {
			return fmt.Errorf("label %w", err)
		}
		if v <= math.MinInt32 || v > math.MaxInt32 {
			return fmt.Errorf("label %q = %d does not fit in an int32", name, v)
		}
	}
	return nil
}

func checkName(name string) error {
	if name == "" || len(name) > maxNameLen || !utf8.ValidString(name) {
		return fmt.Errorf("name %q: want 1 to %d bytes of UTF-8", name, maxNameLen)
	}
	return nil
}
