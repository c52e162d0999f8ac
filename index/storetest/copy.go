package storetest

import (
	"context"
	"errors"
	"testing"

	"simsearch/index"
	"simsearch/index/vectortest"
)

// RunCopy tests index.CopySpace from a store made by openFrom to one made
// by openTo: a copy interrupted after its first chunk and run again ends
// with every ordinary item and vector once (probe items stay behind), the
// same exact neighbours, and a third run adds nothing.
func RunCopy(t *testing.T, openFrom, openTo func(t *testing.T) index.Store) {
	ctx := context.Background()
	from, to := openFrom(t), openTo(t)
	const n, probes, dim = 2500, 50, 8
	const ordinary = n - probes
	items := Items("copy", n, probes, 21)
	// An item in to already, under another id: matched by hash.
	if _, _, err := to.AddItems(ctx, items[2000:2001]); err != nil {
		t.Fatal(err)
	}
	src := space(t, from, "moved", dim, index.Cosine)
	fill(t, from, src, items, dim, 22)

	stop, cancel := context.WithCancel(ctx)
	_, err := index.CopySpace(stop, from, to, "moved", func(p index.Progress) {
		if p.Done > 0 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted copy: %v, want context.Canceled", err)
	}
	dst, err := to.Space("moved")
	if err != nil {
		t.Fatal(err)
	}
	if part := dst.Len(); part == 0 || part == ordinary {
		t.Fatalf("interrupted copy holds %d vectors", part)
	}
	sum, err := index.CopySpace(ctx, from, to, "moved", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Vectors != ordinary || sum.VectorsAdded == 0 || sum.VectorsAdded == ordinary || sum.SpaceCreated {
		t.Fatalf("resumed copy: %+v", sum)
	}
	if to.Len() != ordinary || dst.Len() != ordinary || to.ProbeCount() != 0 {
		t.Fatalf("after the copy: %d items (%d probes), %d vectors; want %d ordinary ones", to.Len(), to.ProbeCount(), dst.Len(), ordinary)
	}
	sum, err = index.CopySpace(ctx, from, to, "moved", nil)
	if err != nil || sum.ItemsAdded != 0 || sum.VectorsAdded != 0 {
		t.Fatalf("third copy: %+v, %v; want nothing added", sum, err)
	}
	enc, err := dst.Encoder()
	if err != nil || enc.ID != "enc-moved" || string(enc.Checkpoint) != "weights of moved" {
		t.Fatalf("copied encoder %+v, %v", enc, err)
	}
	// The same neighbours, by hash, for a few queries.
	q := vectortest.Latent(23, 5, dim, 8, 50, 0.3)
	opts := index.SearchOptions{K: 10, Method: index.Exact, Filter: index.Filter{Splits: []string{index.SplitTrain}}}
	a, err := src.SearchBatch(ctx, q, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dst.SearchBatch(ctx, q, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		for j := range a[i] {
			x, err := from.Item(a[i][j].ID)
			if err != nil {
				t.Fatal(err)
			}
			y, err := to.Item(b[i][j].ID)
			if err != nil {
				t.Fatal(err)
			}
			if x.Hash != y.Hash || x.Source != y.Source {
				t.Fatalf("query %d, neighbour %d: %s in the source, %s in the copy", i, j, x.Source, y.Source)
			}
		}
	}
	if th, err := to.Thumbnail(b[0][0].ID); err != nil {
		t.Fatal(err)
	} else if x, _ := from.Thumbnail(a[0][0].ID); string(th) != string(x) {
		t.Fatalf("thumbnail %q copied as %q", x, th)
	}
}
