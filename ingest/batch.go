package ingest

import (
	"context"
	"image"

	"simsearch/encoder"
	"simsearch/index"
)

// BatchResult tells what AddBatch did.
type BatchResult struct {
	// IDs are the items' ids, one per item in order (known hashes give the
	// stored item's id).
	IDs []index.ItemID
	// AddedItems counts the items that were new to the database.
	AddedItems int
	// AddedVectors counts the items that were embedded and given a vector
	// in the space.
	AddedVectors int
}

// AddBatch adds one batch of images to db and space, the way Run does:
// it stores the items in one transaction (an item whose hash is already
// stored keeps its id and stored fields) while it embeds, with emb, the
// items that have no vector in the space yet, then stores those vectors in
// a second transaction. Running it again with the same batch, after an
// interruption at any point, completes the work without duplicating any.
//
// images[i] is items[i]'s image at the space's resolution; emb must embed
// with the space's encoder (see spaces.SameEncoder). AddBatch panics
// if the two slices have different lengths.
func AddBatch(ctx context.Context, db index.Store, space index.SpaceStore, emb encoder.Encoder, items []index.Item, images []*image.RGBA) (BatchResult, error) {
	if len(items) != len(images) {
		panic("ingest: AddBatch with different numbers of items and images")
	}
	hashes := make([]index.Hash, len(items))
	for i := range items {
		hashes[i] = items[i].Hash
	}
	stored, found, err := db.LookupHashes(hashes)
	if err != nil {
		return BatchResult{}, err
	}
	need := make([]bool, len(items))
	for i := range need {
		need[i] = !found[i] || !space.Has(stored[i])
	}
	todo := embedPositions(items, need)

	var vectors []float32
	var embedErr error
	embedded := make(chan struct{})
	go func() {
		defer close(embedded)
		vectors, embedErr = embedTodo(ctx, emb, images, todo)
	}()
	ids, added, err := db.AddItems(ctx, items)
	<-embedded
	res := BatchResult{IDs: ids, AddedItems: added}
	if err != nil {
		return res, err
	}
	if embedErr != nil {
		return res, embedErr
	}
	res.AddedVectors, err = storeVectors(ctx, space, ids, todo, vectors)
	return res, err
}

// embedPositions returns the positions of the items to embed: those that need a
// vector, each hash once.
func embedPositions(items []index.Item, need []bool) []int {
	var todo []int
	seen := make(map[index.Hash]bool, len(items))
	for i := range items {
		if !need[i] || seen[items[i].Hash] {
			continue
		}
		seen[items[i].Hash] = true
		todo = append(todo, i)
	}
	return todo
}

// embedTodo embeds the images at the positions todo, one vector after
// another.
func embedTodo(ctx context.Context, emb encoder.Encoder, images []*image.RGBA, todo []int) ([]float32, error) {
	if len(todo) == 0 {
		return nil, nil
	}
	batch := make([]*image.RGBA, len(todo))
	for k, i := range todo {
		batch[k] = images[i]
	}
	out, err := emb.Embed(ctx, batch)
	if err != nil {
		return nil, err
	}
	dim := emb.Dim()
	flat := make([]float32, 0, len(out)*dim)
	for _, v := range out {
		flat = append(flat, v...)
	}
	return flat, nil
}

// storeVectors adds the vectors of the items at positions todo to space.
// Items that got a vector meanwhile are left as they are.
func storeVectors(ctx context.Context, space index.SpaceStore, ids []index.ItemID, todo []int, vectors []float32) (int, error) {
	if len(todo) == 0 {
		return 0, nil
	}
	todoIDs := make([]index.ItemID, len(todo))
	for k, i := range todo {
		todoIDs[k] = ids[i]
	}
	return space.AddVectors(ctx, todoIDs, vectors)
}
