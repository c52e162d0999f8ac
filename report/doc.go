// Package report measures what an encoder's embedding space is invariant and
// sensitive to, from neighbour queries on the index: k-NN factor accuracy,
// factor interventions (diameter and margin of invariance sets), augmentation
// orbits (alignment and uniformity), verdicts, and the index's own recall. It
// renders the results as Markdown, JSON and PNG.
package report
