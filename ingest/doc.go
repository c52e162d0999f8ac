// Package ingest puts images into a space of an index: it reads sources (an
// image folder, a generated dataset folder, a generator spec, or the items
// already stored), decodes and resizes in parallel, embeds in batches with
// the space's encoder and writes in transactions. Ingestion is idempotent
// and resumable.
//
// # Basics
//
//	model, err := encoder.Load("enc-A.safetensors")
//	db, err := index.Open("shapes.db", index.Options{})
//	defer db.Close()
//	sum, err := ingest.Run(ctx, db, ingest.Options{
//		Source: "shapes32", Space: "contrastive-A", Encoder: model})
//
// An item is keyed by the hash of its pixels (ContentHash), so the same
// picture from a PNG file or from a generator spec is one item, and running
// an ingestion again embeds only what is missing. Each item keeps its source
// (the file path as given, or "spec#i"), its split, its factors and labels
// when the source knows them, and a thumbnail for neighbour grids.
//
// Labels come with a folder through a labels CSV (Options.Labels): its
// columns become categorical or continuous labels, named in the store's
// label schema, and a row for an image already stored relabels it. An
// .npz Source in the dSprites layout is streamed (images and latents read
// in step), its factors becoming grid labels (NpzOptions).
//
// NewItem and AddBatch are the steps Run is made of; the report uses them
// to store probe images it generates.
//
// # Caveats
//
// Items are shared by every space of a file: a second space over the same
// images ("--space B" with another encoder) stores vectors only. An item
// keeps the source, split and factors it was first stored with.
//
// Stored file paths are as the user wrote them: re-reading stored sources
// (an empty Options.Source) resolves relative paths against the working
// directory, and skips images whose pixels changed (ErrSourceChanged).
package ingest
