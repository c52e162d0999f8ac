package cli

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"simsearch/dataset"
	"simsearch/index"
)

// labelNames reads and writes the labels of a store's items: the colored
// shapes' own, and those of its label schema (labels files, npz
// datasets), by class name.
type labelNames struct{ schema index.LabelSchema }

// storeLabels returns the label names of st.
func storeLabels(st index.Store) (labelNames, error) {
	s, err := st.LabelSchema()
	return labelNames{s}, err
}

// value names class v of label name: a shape's name, a class name of the
// schema, or else the number.
func (n labelNames) value(name string, v int) string {
	if l, ok := n.schema.Label(name); ok && v >= 0 && v < len(l.Classes) {
		return l.Classes[v]
	}
	if name == "shape" && v >= 0 && v < dataset.LabelClasses("shape") {
		return dataset.Shape(v).String()
	}
	return strconv.Itoa(v)
}

// format writes labels as "shape=circle color=3 location=4 size=2": the
// schema's labels and the dataset's first, in their order, then others by
// name.
func (n labelNames) format(labels map[string]int) string {
	names := make([]string, 0, len(labels))
	for name := range labels {
		names = append(names, name)
	}
	// The schema's labels first, in its order, then the colored shapes'.
	order := make([]string, 0, len(n.schema.Labels)+len(dataset.LabelNames))
	for _, l := range n.schema.Labels {
		order = append(order, l.Name)
	}
	order = append(order, dataset.LabelNames...)
	rank := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, name := range names {
		v := n.value(name, labels[name])
		if strings.ContainsAny(v, " =") {
			v = strconv.Quote(v)
		}
		parts[i] = name + "=" + v
	}
	return strings.Join(parts, " ")
}

// describeFilter writes a filter the way --filter reads it.
func (n labelNames) describeFilter(f index.Filter) string {
	var parts []string
	if len(f.Splits) > 0 {
		parts = append(parts, "split="+strings.Join(f.Splits, "|"))
	}
	for _, l := range f.Labels {
		parts = append(parts, fmt.Sprintf("%s=%s", l.Name, n.value(l.Name, l.Value)))
	}
	return strings.Join(parts, " ")
}

// parseFilters reads --filter values: split=NAME or LABEL=VALUE, where
// VALUE is a class name or number of a colored-shapes label or of a label
// of the schema.
func (n labelNames) parseFilters(values []string) (index.Filter, error) {
	var f index.Filter
	for _, v := range values {
		name, value, ok := strings.Cut(v, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return f, usagef("--filter %q: want split=NAME or LABEL=VALUE, such as split=train or color=3", v)
		}
		if name == "split" {
			f.Splits = append(f.Splits, value)
			continue
		}
		class, err := n.parseClass(name, value)
		if err != nil {
			return f, usagef("--filter %q: %v", v, err)
		}
		f.Labels = append(f.Labels, index.LabelIs{Name: name, Value: class})
	}
	return f, nil
}

// parseClass reads the class of label name written as value.
func (n labelNames) parseClass(name, value string) (int, error) {
	if l, ok := n.schema.Label(name); ok {
		if i := slices.Index(l.Classes, value); i >= 0 {
			return i, nil
		}
		if c, err := strconv.Atoi(value); err == nil && c >= 0 && c < len(l.Classes) {
			return c, nil
		}
		shown := l.Classes
		if len(shown) > 12 {
			shown = append(slices.Clone(shown[:12]), "...")
		}
		return 0, fmt.Errorf("%s has no class %q; its classes are %s (or their numbers, 0 to %d)", name, value, strings.Join(shown, ", "), len(l.Classes)-1)
	}
	classes := dataset.LabelClasses(name)
	if classes == 0 {
		known := slices.Clone(dataset.LabelNames)
		for _, l := range n.schema.Labels {
			known = append(known, l.Name)
		}
		return 0, fmt.Errorf("no label %q; the labels are %s (or split)", name, strings.Join(known, ", "))
	}
	c, err := strconv.Atoi(value)
	if err != nil && name == "shape" {
		shape, shapeErr := dataset.ParseShape(value)
		c, err = int(shape), shapeErr
	}
	if err != nil || c < 0 || c >= classes {
		return 0, fmt.Errorf("%s is a class from 0 to %d", name, classes-1)
	}
	return c, nil
}
