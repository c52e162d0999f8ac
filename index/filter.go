package index

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Filter restricts the items a search may return (or Select lists). Each
// non-empty field must hold; the zero Filter keeps every ordinary item.
//
// A Filter is a plain value; searches read it and do not keep it, so one
// Filter may serve concurrent searches as long as nobody modifies it.
//
// Probe items (those with a SetID) are left out unless the filter names
// them through Group or Sets, or sets IncludeProbes: ordinary queries
// never return probes, and queries about a probe experiment see only it.
//
// Searches with a filter still return k results when k items match: the
// graph search walks on until it holds ef matching items, or the matching
// items are scanned exactly when that is faster (see Method).
type Filter struct {
	// Splits keeps items whose split is one of these ("val queries train
	// items only": Splits: []string{SplitTrain}).
	Splits []string `json:"splits,omitempty"`

	// Group keeps the probe items of this experiment only.
	Group string `json:"group,omitempty"`

	// Sets keeps the items of these probe sets only.
	Sets []uint32 `json:"sets,omitempty"`

	// ExcludeSets drops the items of these sets (for margins: "the nearest
	// member of any other set": Group: g, ExcludeSets: []uint32{mine}).
	ExcludeSets []uint32 `json:"exclude_sets,omitempty"`

	// Labels keeps items whose label Name has Value, for every entry.
	Labels []LabelIs `json:"labels,omitempty"`

	// ExcludeItems drops these items (SearchItem adds the query item).
	ExcludeItems []ItemID `json:"exclude_items,omitempty"`

	// IncludeProbes lets probe items through (subject to the other fields).
	IncludeProbes bool `json:"include_probes,omitempty"`
}

// LabelIs is a filter condition: the item's label Name equals Value. It
// is a plain value.
type LabelIs struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

// Validate checks the filter's fields: label names and split names must
// not be empty. Searches and Select call it; the error wraps ErrInvalid.
func (f *Filter) Validate() error { return f.validate() }

// ProbesAllowed reports whether probe items may pass the filter: it names
// a group or sets, or sets IncludeProbes.
func (f *Filter) ProbesAllowed() bool { return f.probesAllowed() }

// validate checks the filter's fields.
func (f *Filter) validate() error {
	for _, l := range f.Labels {
		if err := checkName(l.Name); err != nil {
			return fmt.Errorf("filter: label %w: %w", ErrInvalid, err)
		}
	}
	for _, s := range f.Splits {
		if s == "" {
			return fmt.Errorf("filter: %w: empty split name", ErrInvalid)
		}
	}
	return nil
}

// needsCatalog reports whether testing the filter needs the items' fields.
func (f *Filter) needsCatalog(anyProbes bool) bool {
	return len(f.Splits) > 0 || f.Group != "" || len(f.Sets) > 0 || len(f.ExcludeSets) > 0 ||
		len(f.Labels) > 0 || (anyProbes && !f.IncludeProbes)
}

// staticKey identifies the part of the filter that a space's selection
// cache can reuse across queries: everything but the exclusions, which
// change from query to query.
func (f *Filter) staticKey(anyProbes bool) string {
	var b strings.Builder
	splits := slices.Clone(f.Splits)
	slices.Sort(splits)
	for _, s := range slices.Compact(splits) {
		b.WriteString(strconv.Quote(s))
	}
	b.WriteString("|" + strconv.Quote(f.Group) + "|")
	sets := slices.Clone(f.Sets)
	slices.Sort(sets)
	for _, s := range slices.Compact(sets) {
		b.WriteString(strconv.FormatUint(uint64(s), 10) + ",")
	}
	b.WriteString("|")
	labels := slices.Clone(f.Labels)
	slices.SortFunc(labels, func(a, b LabelIs) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return a.Value - b.Value
	})
	for _, l := range labels {
		b.WriteString(strconv.Quote(l.Name) + "=" + strconv.Itoa(l.Value) + ",")
	}
	if f.probesAllowed() || !anyProbes {
		b.WriteString("|probes")
	}
	return b.String()
}

// probesAllowed reports whether probe items may pass the filter.
func (f *Filter) probesAllowed() bool {
	return f.IncludeProbes || f.Group != "" || len(f.Sets) > 0
}

// matcher tests items against a compiled filter using the catalog.
type matcher struct {
	cat *catalog // nil when the filter needs no item fields

	none          bool   // matches nothing (an unknown split, group or label)
	splits        []bool // by split code; nil keeps every split
	group         uint32 // 0: any group
	sets          []uint32
	labels        []labelColumn
	excludeProbes bool

	excludeSets  []uint32
	excludeItems []ItemID
}

type labelColumn struct {
	values []int32
	value  int32
}

// compileFilter prepares f for testing items of cat. cat may be nil when
// f.needsCatalog is false.
func compileFilter(f *Filter, cat *catalog, anyProbes bool) *matcher {
	m := &matcher{cat: cat, excludeItems: f.ExcludeItems, excludeSets: f.ExcludeSets}
	if cat == nil {
		return m
	}
	if len(f.Splits) > 0 {
		m.splits = make([]bool, len(cat.splitNames))
		found := false
		for code, name := range cat.splitNames {
			if slices.Contains(f.Splits, name) {
				m.splits[code] = true
				found = true
			}
		}
		m.none = m.none || !found
	}
	if f.Group != "" {
		code := slices.Index(cat.groupNames, f.Group)
		if code <= 0 {
			m.none = true
		}
		m.group = uint32(max(code, 0))
	}
	if len(f.Sets) > 0 {
		m.sets = slices.Clone(f.Sets)
		slices.Sort(m.sets)
	}
	for _, l := range f.Labels {
		col, ok := cat.labels[l.Name]
		if !ok || l.Value <= missingLabel || l.Value > 1<<31-1 {
			m.none = true
			continue
		}
		m.labels = append(m.labels, labelColumn{values: col, value: int32(l.Value)})
	}
	m.excludeProbes = anyProbes && !f.probesAllowed()
	return m
}

// acceptsAll reports whether the static part keeps every item.
func (m *matcher) acceptsAll() bool {
	return !m.none && m.splits == nil && m.group == 0 && m.sets == nil && m.labels == nil && !m.excludeProbes
}

// hasExclusions reports whether the filter drops particular items or sets.
func (m *matcher) hasExclusions() bool {
	return len(m.excludeItems) > 0 || len(m.excludeSets) > 0
}

// matchStatic tests item id against everything but the exclusions.
func (m *matcher) matchStatic(id uint32) bool {
	if m.none {
		return false
	}
	c := m.cat
	if c == nil {
		return true
	}
	if m.splits != nil && !m.splits[c.split[id]] {
		return false
	}
	if m.group != 0 && c.group[id] != m.group {
		return false
	}
	if m.sets != nil {
		if _, ok := slices.BinarySearch(m.sets, c.set[id]); !ok {
			return false
		}
	}
	if m.excludeProbes && c.set[id] != 0 {
		return false
	}
	for _, l := range m.labels {
		if l.values[id] != l.value {
			return false
		}
	}
	return true
}

// excluded tests item id against the exclusions.
func (m *matcher) excluded(id uint32) bool {
	for _, x := range m.excludeItems {
		if uint32(x) == id {
			return true
		}
	}
	if len(m.excludeSets) > 0 && m.cat != nil {
		set := m.cat.set[id]
		for _, x := range m.excludeSets {
			if x == set {
				return true
			}
		}
	}
	return false
}

// match tests item id against the whole filter.
func (m *matcher) match(id uint32) bool {
	return m.matchStatic(id) && !m.excluded(id)
}
