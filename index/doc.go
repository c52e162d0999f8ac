// Package index is the embedded store of simsearch: one bbolt file that holds
// items once and any number of named embedding spaces, each with its vectors,
// its encoder and an HNSW graph, with exact search beside it.
//
// # Basics
//
//	db, err := index.Open("shapes.db", index.Options{})      // creates it
//	defer db.Close()                                           // saves graphs
//	ids, _, err := db.AddItems(ctx, items)                     // one transaction
//	sp, err := db.CreateSpace(ctx, index.SpaceConfig{Name: "contrastive-A",
//		Dim: 128, Encoder: index.Encoder{ID: sha, Checkpoint: ckpt}})
//	todo := sp.Missing(ids)                                    // resumable
//	_, err = sp.AddVectors(ctx, todo, vectors)                 // one transaction
//	err = sp.SaveGraph(ctx)                                    // build + store
//	res, err := sp.SearchItem(id, index.SearchOptions{K: 10,
//		Filter: index.Filter{Splits: []string{index.SplitTrain}}})
//
// Items carry a content hash (adding a known hash returns its id: an
// interrupted ingestion resumes by sending the same batches again), a
// source, a split, factors and labels by name, an optional probe set and
// group, and a thumbnail. The package knows nothing of images or encoders:
// a space stores its encoder as opaque bytes with an identity string.
//
// A search returns at most k items, nearest first, with Euclidean
// distances. Filters (split, set, group, label, exclusions) still return k
// items when k match: per query the package chooses between a graph search
// that walks on until it holds ef matching items and an exact scan of the
// matching vectors,
// whichever its cost model says is faster (small spaces and selective
// filters go exact). Probe items are left out of ordinary queries.
//
// # Storage
//
// Items live in bucket items (id → record), hashes (hash → id) and
// thumbnails; the label schema (kinds and class names of the labels that
// labels files and factorial datasets bring, see LabelSchema and
// SetLabels) is one versioned record in meta; each space in spaces/<name> holds its configuration, its
// encoder checkpoint and its vectors as chunks of about 1 MiB in storage
// order. The vectors are the source of truth. The graph is stored beside
// them as a checksummed cache (chunks of 4 MiB) that records how many
// vectors it covers: loading a space imports it and inserts the vectors
// stored after it, or rebuilds it when it is missing, damaged or of
// another version. Writable handles save changed graphs on Close, and
// AddVectors saves when the unsaved part of a loaded graph has grown as
// large as the saved one. Every record carries a version; the file has a
// FormatVersion checked by Open.
//
// # Concurrency
//
// A DB is safe for concurrent use: searches run in parallel, writes are
// serialized and each is one bbolt transaction. Between processes a writer
// holds the file's exclusive lock and readers opened with
// Options.ReadOnly share a lock; Open waits Options.Timeout for it and
// then fails with ErrInUse.
//
// # Caveats
//
// A loaded space keeps its vectors and graph in memory: about
// 4·dim + 140 bytes per vector at M = 16. Vectors cannot be replaced or
// deleted; delete the space and ingest again. A graph built with
// Options.Workers > 1 depends on goroutine timing, so two builds of the
// same vectors may answer a query slightly differently.
package index
