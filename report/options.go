package report

import (
	"cmp"
	"fmt"

	"simsearch/encoder"
	"simsearch/index"
)

// Options configure Prepare and Run. Every zero field means the default
// named in its comment (DefaultOptions returns them); negative numbers are
// errors. Prepare and Run must be given the same options.
type Options struct {
	// Spaces names the spaces to measure, in the order of the report; empty
	// means every space of the store, sorted by name.
	Spaces []string
	// K is the number of neighbours of a k-NN vote; 0 means 10.
	K int
	// Queries caps the validation items that query the training items;
	// 0 means all of them.
	Queries int
	// Bases is the number of invariance sets per factor intervention (base
	// items); 0 means 400.
	Bases int
	// Variants is the number of members of an intervention set (the shape
	// intervention always has the three shapes); 0 means 8.
	Variants int
	// OrbitSets is the number of augmentation orbits; 0 means 200.
	OrbitSets int
	// OrbitSize is the number of augmentations of one image in an orbit;
	// 0 means 8.
	OrbitSize int
	// NoOrbits measures no augmentation orbits.
	NoOrbits bool
	// Augmentation makes the orbits of every space ("A", "B", "C" or
	// primitives); empty means each space's own training augmentation, and
	// no orbits for spaces trained without one.
	Augmentation string
	// Thresholds turn measurements into verdicts; the zero value means
	// DefaultThresholds.
	Thresholds Thresholds
	// Exact recomputes every figure that comes from the index by brute
	// force and reports the largest difference.
	Exact bool
	// Ef is the HNSW search breadth; 0 means the space's default.
	Ef int
	// Method is how neighbours are found: index.Auto (the zero value) lets
	// the index choose per query, index.Exact scans every vector (the
	// brute-force baseline), index.HNSW always walks the graph.
	Method index.Method
	// Seed draws the probe items, the orbits' augmentations and the sampled
	// queries; 0 means 1.
	Seed uint64
	// GridQueries is the number of validation queries of each space's
	// neighbour grid; 0 means 8.
	GridQueries int
	// NoGrid draws no neighbour grid (Report.Spaces[i].Grid stays empty).
	NoGrid bool
	// ProbeItems caps the training items the linear probes are fitted on
	// and the validation items they are scored on (a seeded sample of
	// each); 0 means 5,000. Their time grows with it (BENCHMARKS.md).
	ProbeItems int
	// Encoders returns the encoder that embeds a space's probe items; nil
	// means the encoder stored in the space (spaces.OpenEncoder). Prepare
	// closes what it returns.
	Encoders func(index.SpaceStore) (encoder.Encoder, error)
	// Progress, if not nil, is called as each stage advances.
	Progress func(Progress)
}

// DefaultOptions returns the options the zero value stands for.
func DefaultOptions() Options {
	return Options{
		K: 10, Bases: 400, Variants: 8, OrbitSets: 200, OrbitSize: 8,
		Thresholds: DefaultThresholds(), Seed: 1, GridQueries: 8, ProbeItems: maxProbeTrain,
	}
}

// withDefaults checks o and fills its zero fields.
func (o Options) withDefaults() (Options, error) {
	for _, f := range []struct {
		name  string
		value int
	}{{"k", o.K}, {"queries", o.Queries}, {"bases", o.Bases}, {"variants", o.Variants},
		{"orbit sets", o.OrbitSets}, {"orbit size", o.OrbitSize}, {"ef", o.Ef}, {"grid queries", o.GridQueries}, {"probe items", o.ProbeItems}} {
		if f.value < 0 {
			return o, fmt.Errorf("%w: %s must not be negative, not %d", ErrOptions, f.name, f.value)
		}
	}
	d := DefaultOptions()
	o.K = cmp.Or(o.K, d.K)
	o.Bases = cmp.Or(o.Bases, d.Bases)
	o.Variants = cmp.Or(o.Variants, d.Variants)
	o.OrbitSets = cmp.Or(o.OrbitSets, d.OrbitSets)
	o.OrbitSize = cmp.Or(o.OrbitSize, d.OrbitSize)
	o.Seed = cmp.Or(o.Seed, d.Seed)
	o.GridQueries = cmp.Or(o.GridQueries, d.GridQueries)
	o.ProbeItems = cmp.Or(o.ProbeItems, d.ProbeItems)
	if o.Thresholds == (Thresholds{}) {
		o.Thresholds = d.Thresholds
	}
	switch {
	case o.Variants < 2:
		return o, fmt.Errorf("%w: an intervention set needs at least 2 variants, not %d", ErrOptions, o.Variants)
	case !o.NoOrbits && o.OrbitSize < 2:
		return o, fmt.Errorf("%w: an orbit needs at least 2 augmentations, not %d", ErrOptions, o.OrbitSize)
	case o.Bases < 2:
		return o, fmt.Errorf("%w: interventions need at least 2 sets, not %d", ErrOptions, o.Bases)
	case !o.NoOrbits && o.OrbitSets < 2:
		return o, fmt.Errorf("%w: orbits need at least 2 sets, not %d", ErrOptions, o.OrbitSets)
	}
	if err := o.Thresholds.Validate(); err != nil {
		return o, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	return o, nil
}

// spaceNames returns the spaces to measure.
func (o Options) spaceNames(st index.Store) ([]string, error) {
	if len(o.Spaces) > 0 {
		return o.Spaces, nil
	}
	names, err := st.SpaceNames()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: %s has no space to report on; ingest images into one first", ErrOptions, st.Path())
	}
	return names, nil
}

// orbitAugmentation returns the augmentation of a space's orbits, or ""
// for none.
func (o Options) orbitAugmentation(info encoder.Info) string {
	if o.NoOrbits {
		return ""
	}
	aug := cmp.Or(o.Augmentation, info.Augmentation)
	if aug == "none" {
		return ""
	}
	return aug
}
