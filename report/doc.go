// Package report measures what an encoder's embedding space is invariant and
// sensitive to, from neighbour queries on the index: k-NN factor accuracy,
// factor interventions (diameter and margin of invariance sets), augmentation
// orbits (alignment and uniformity), verdicts, and the index's own recall.
//
// # Basics
//
// A report is made in two steps so that measuring only reads:
//
//	err := report.Prepare(ctx, store, opts) // writes the probe images and their vectors
//	r, err := report.Run(ctx, store, opts)  // reads; r is plain data
//	err = render.Markdown(w, r)             // package report/render draws it
//
// Prepare stores the probe items (intervention and orbit sets, kept with
// set ids and left out of ordinary queries) and embeds them with each
// space's encoder; a second Prepare with the same options finds them and
// does nothing. Run measures from the store alone, so it runs beside other
// readers. Its Report holds every figure, the queries of the neighbour
// grids and the percentiles behind the distance plots, with JSON tags in
// one style (report.json, FormatVersion).
//
// # Other labels
//
// A space whose items carry labels of their own (a labels file, an npz
// dataset; see index.LabelSchema) is measured on them instead of the
// colored shapes': k-NN accuracy per label and per class with a
// confusion table, k-NN regression of continuous factors against the
// training mean, interventions drawn from the stored items where they form
// a factor grid (FactorGrid says whether, and if not why), orbits of
// stored validation images, and a verdict per label.
package report
