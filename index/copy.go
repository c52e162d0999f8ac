package index

import (
	"context"
	"fmt"
	"slices"
)

// CopySummary says what CopySpace did: plain counts.
type CopySummary struct {
	// Vectors is the number of vectors of the space's ordinary items in
	// from (probe items are not copied).
	Vectors int `json:"vectors"`
	// ItemsAdded and VectorsAdded count what was new in to.
	ItemsAdded   int `json:"items_added"`
	VectorsAdded int `json:"vectors_added"`
	// SpaceCreated reports whether the space was created in to.
	SpaceCreated bool `json:"space_created"`
	// Storage is how the space in to keeps its vectors for the graph.
	Storage Storage `json:"storage"`
}

// copyChunk is how many items CopySpace moves per transaction.
const copyChunk = 2048

// CopySpace copies the space called name from one store to another (a
// file to a server, a server to a file, or any two): its configuration
// and encoder, the items that have a vector in it (with their
// thumbnails) and the vectors, then builds the index in to. Items are
// matched by content hash, so the ids in to may differ from those in
// from. It is resumable and idempotent: items and vectors that to holds
// already are not sent again, so running it again after an interruption
// copies only what is missing. A space of that name in to with another
// encoder is an error wrapping ErrEncoderMismatch. A space created in a
// database file keeps the storage it has in from (int8 or float32); the
// PostgreSQL store keeps float32 vectors whatever the source's storage, and
// a space that exists in to keeps its own.
//
// progress, when not nil, is called after each chunk with Stage "copy"
// (Done and Total count the space's vectors); the index build at the end
// reports through to's Options.Progress.
func CopySpace(ctx context.Context, from, to Store, name string, progress func(Progress)) (CopySummary, error) {
	src, err := from.Space(name)
	if err != nil {
		return CopySummary{}, fmt.Errorf("copy space %q: %w", name, err)
	}
	enc, err := src.Encoder()
	if err != nil {
		return CopySummary{}, fmt.Errorf("copy space %q: %w", name, err)
	}
	var sum CopySummary
	if _, err := to.Space(name); err != nil {
		sum.SpaceCreated = true
	}
	// A space created in a database file takes the source's storage; the
	// other stores keep float32 vectors, what their own default gives, and
	// a space that exists keeps its own.
	storage := DefaultStorage
	if _, file := to.(fileStore); file && sum.SpaceCreated {
		storage = src.Info().Storage
	}
	dst, err := to.CreateSpace(ctx, SpaceConfig{Name: name, Dim: src.Dim(), Metric: src.Metric(), Graph: src.Graph(), Storage: storage, Encoder: enc})
	if err != nil {
		return CopySummary{}, fmt.Errorf("copy space %q to %s: %w", name, to.Path(), err)
	}
	sum.Storage = dst.Info().Storage
	// Probe items are left out: their set ids belong to the store that
	// made them, and a report prepares them again where it runs.
	ordinary, err := from.Select(Filter{})
	if err != nil {
		return CopySummary{}, fmt.Errorf("copy space %q: %w", name, err)
	}
	ids := slices.DeleteFunc(ordinary, func(id ItemID) bool { return !src.Has(id) })
	sum.Vectors = len(ids)
	// The label schema (kinds, class names) goes first, so that the items'
	// labels mean the same in to.
	schema, err := from.LabelSchema()
	if err != nil {
		return CopySummary{}, fmt.Errorf("copy space %q: %w", name, err)
	}
	if len(schema.Labels) > 0 {
		if _, err := to.SetLabels(ctx, schema, nil); err != nil {
			return CopySummary{}, fmt.Errorf("copy the label schema of %s to %s: %w", from.Path(), to.Path(), err)
		}
	}
	report := func(done int) {
		if progress != nil {
			progress(Progress{Stage: "copy", Space: name, Done: int64(done), Total: int64(len(ids))})
		}
	}
	report(0)
	for start := 0; start < len(ids); start += copyChunk {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		chunk := ids[start:min(start+copyChunk, len(ids))]
		items, vectorsAdded, err := copyChunkOf(ctx, from, to, src, dst, chunk)
		sum.ItemsAdded += items
		sum.VectorsAdded += vectorsAdded
		if err != nil {
			return sum, fmt.Errorf("copy space %q from %s to %s: %w", name, from.Path(), to.Path(), err)
		}
		report(start + len(chunk))
	}
	if err := dst.SaveGraph(ctx); err != nil {
		return sum, fmt.Errorf("copy space %q: %w", name, err)
	}
	return sum, nil
}

// copyChunkOf copies the items ids of from (all with a vector in src)
// and their vectors into to and dst.
func copyChunkOf(ctx context.Context, from, to Store, src, dst SpaceStore, ids []ItemID) (itemsAdded, vectorsAdded int, err error) {
	items, err := from.Items(ids)
	if err != nil {
		return 0, 0, err
	}
	hashes := make([]Hash, len(items))
	for i := range items {
		hashes[i] = items[i].Hash
	}
	toIDs, found, err := to.LookupHashes(hashes)
	if err != nil {
		return 0, 0, err
	}
	var missing []Item
	for i := range items {
		if !found[i] {
			if items[i].Thumbnail, err = from.Thumbnail(items[i].ID); err != nil {
				return 0, 0, err
			}
			missing = append(missing, items[i])
		}
	}
	if len(missing) > 0 {
		newIDs, added, err := to.AddItems(ctx, missing)
		if err != nil {
			return 0, 0, err
		}
		itemsAdded = added
		j := 0
		for i := range items {
			if !found[i] {
				toIDs[i] = newIDs[j]
				j++
			}
		}
	}
	// Only the vectors dst lacks are read and sent.
	need := dst.Missing(toIDs)
	if len(need) == 0 {
		return itemsAdded, 0, nil
	}
	back := make(map[ItemID]ItemID, len(toIDs))
	for i, id := range toIDs {
		back[id] = ids[i]
	}
	srcIDs := make([]ItemID, len(need))
	for i, id := range need {
		srcIDs[i] = back[id]
	}
	vectors, err := src.Vectors(ctx, srcIDs)
	if err != nil {
		return itemsAdded, 0, err
	}
	vectorsAdded, err = dst.AddVectors(ctx, need, vectors)
	return itemsAdded, vectorsAdded, err
}
