// Package experiment is the seed's experiment as one run: generate a
// colored-shapes dataset, train an autoencoder and three contrastive
// encoders (augmentations A, B and C), make the pixels and random
// baselines, ingest the dataset into one database with a space per
// encoder, and report what each space is invariant to. `simsearch demo`
// runs it.
//
// # Basics
//
//	size, _ := experiment.FindSize("small")
//	size.Seed = 1
//	res, err := experiment.Run(ctx, experiment.Options{Dir: "simsearch-demo", Size: size})
//
// Sizes fixes the sizes it offers (small, the demo's default; full, the
// seed's own; tiny, for tests), Encoders the encoders it trains. Estimate
// measures this machine's training speed on a few steps and says how long
// a size's training takes.
//
// # Resuming
//
// The folder records its size in demo.json (Claim). A run finds what an
// earlier run of the same size finished (a complete dataset folder,
// checkpoints, vectors and probes in the database) and does not do it
// again, so an interrupted run resumes; a folder of another size is
// refused rather than mixed.
package experiment
