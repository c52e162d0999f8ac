package postgres

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"simsearch/index"
)

// query collects the parameters of a statement as it is written.
type query struct{ args []any }

// arg adds a parameter and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// filter writes f as a SQL condition on a table with the item columns
// split, set_id, grp and labels, and the item id in idColumn (items and
// the vectors tables both have them). static leaves the exclusions out.
// The rules are index.Filter's: probe items are dropped unless f names
// them, an unknown name matches nothing.
func (q *query) filter(f *index.Filter, idColumn string, anyProbes, withExclusions bool) string {
	var conds []string
	if len(f.Splits) > 0 {
		conds = append(conds, "split = ANY("+q.arg(f.Splits)+"::text[])")
	}
	if f.Group != "" {
		conds = append(conds, "grp = "+q.arg(f.Group))
	}
	if len(f.Sets) > 0 {
		conds = append(conds, "set_id = ANY("+q.arg(uint32s(f.Sets))+"::bigint[])")
	}
	for _, l := range f.Labels {
		if l.Value <= math.MinInt32 || l.Value > math.MaxInt32 {
			conds = append(conds, "false")
			continue
		}
		conds = append(conds, "labels @> jsonb_build_object("+q.arg(l.Name)+"::text, "+q.arg(l.Value)+"::int)")
	}
	if anyProbes && !f.ProbesAllowed() {
		conds = append(conds, "set_id = 0")
	}
	if withExclusions {
		if len(f.ExcludeSets) > 0 {
			conds = append(conds, "set_id <> ALL("+q.arg(uint32s(f.ExcludeSets))+"::bigint[])")
		}
		if len(f.ExcludeItems) > 0 {
			conds = append(conds, idColumn+" <> ALL("+q.arg(int64s(f.ExcludeItems))+"::bigint[])")
		}
	}
	if len(conds) == 0 {
		return "true"
	}
	return strings.Join(conds, " AND ")
}

// hasStatic reports whether f restricts anything but exclusions.
func hasStatic(f *index.Filter, anyProbes bool) bool {
	return len(f.Splits) > 0 || f.Group != "" || len(f.Sets) > 0 || len(f.Labels) > 0 || (anyProbes && !f.ProbesAllowed())
}

// staticKey identifies the static part of f, for the cache of counts.
func staticKey(f *index.Filter, anyProbes bool) string {
	var b strings.Builder
	splits := slices.Clone(f.Splits)
	slices.Sort(splits)
	fmt.Fprintf(&b, "%q|%q|", slices.Compact(splits), f.Group)
	sets := slices.Clone(f.Sets)
	slices.Sort(sets)
	fmt.Fprintf(&b, "%v|", slices.Compact(sets))
	labels := slices.Clone(f.Labels)
	slices.SortFunc(labels, func(a, b index.LabelIs) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return a.Value - b.Value
	})
	for _, l := range labels {
		fmt.Fprintf(&b, "%q=%d,", l.Name, l.Value)
	}
	fmt.Fprintf(&b, "|%v", anyProbes && !f.ProbesAllowed())
	return b.String()
}

func uint32s(v []uint32) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
