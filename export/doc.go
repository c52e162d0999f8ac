// Package export writes the vectors of a space out of the store, for
// NumPy and other tools: a float32 .npy matrix, one row per item, and an
// items CSV beside it with the rows' ids, sources, splits, labels and
// factors; or both in one .npz.
//
// # Basics
//
//	sum, err := export.Run(ctx, store, export.Options{Space: "enc-A", Out: "emb.npy"})
//
// writes emb.npy (N×D, little-endian float32, C order: np.load reads it)
// and emb.items.csv (row, id, hash, source, split, then one column per
// label and per factor). With Format "npz", emb.npz holds vectors.npy, ids.npy
// (int64) and items.csv (np.load(...)["items.csv"] gives its bytes).
// Rows are in item id order; the CSV's row column is the matrix row.
//
// The vectors are streamed a chunk at a time, so memory stays small
// whatever the size of the space; files are written under temporary
// names and put in place when complete (see internal/atomicfile).
package export
