package index

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"simsearch/index/vectortest"
	"sort"
	"testing"
	"time"
)

// openTest opens a new database in a temporary directory, closed when the
// test ends.
func openTest(t testing.TB, opts Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	if opts.Timeout == 0 {
		opts.Timeout = 200 * time.Millisecond
	}
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// testItems returns n items: 60 % train, 40 % val, with labels shape (0–2)
// and colour (0–7) and a factor hue, hashes from prefix and the index.
func testItems(prefix string, n int, seed uint64) []Item {
	rng := rand.New(rand.NewPCG(seed, 7))
	items := make([]Item, n)
	for i := range items {
		split := SplitTrain
		if i%5 >= 3 {
			split = SplitVal
		}
		hue := rng.Float64()
		items[i] = Item{
			Source:  fmt.Sprintf("%s/%d", prefix, i),
			Hash:    sha256.Sum256([]byte(fmt.Sprintf("%s/%d", prefix, i))),
			Split:   split,
			Factors: map[string]float64{"hue": hue, "radius": 6 + 8*rng.Float64()},
			Labels:  map[string]int{"shape": rng.IntN(3), "colour": int(8 * hue)},
		}
	}
	return items
}

// probeItems returns sets×perSet probe items of group, set ids from
// firstSet.
func probeItems(group string, sets, perSet int, firstSet uint32) []Item {
	var items []Item
	for s := range sets {
		for m := range perSet {
			src := fmt.Sprintf("probe/%s/%d/%d", group, s, m)
			items = append(items, Item{
				Source: src, Hash: sha256.Sum256([]byte(src)), Split: SplitProbe,
				SetID: firstSet + uint32(s), Group: group,
				Labels: map[string]int{"shape": m % 3},
			})
		}
	}
	return items
}

// populate adds items and a cosine space "s" of dim-d vectors for them.
func populate(t testing.TB, db *DB, items []Item, dim int, seed uint64) (*Space, []ItemID, []float32) {
	t.Helper()
	ctx := context.Background()
	ids, _, err := db.AddItems(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := db.CreateSpace(ctx, SpaceConfig{Name: "s", Dim: dim, Encoder: Encoder{ID: "enc-1", Checkpoint: []byte("weights")}})
	if err != nil {
		t.Fatal(err)
	}
	vectors := vectortest.Latent(seed, len(ids), dim, 16, 20, 1.0)
	if _, err := sp.AddVectors(ctx, ids, vectors); err != nil {
		t.Fatal(err)
	}
	return sp, ids, vectors
}

// bruteForce returns the k nearest items to q (unit vectors, Euclidean)
// among ids/vectors that keep accepts.
func bruteForce(ids []ItemID, vectors []float32, dim int, q []float32, k int, keep func(ItemID) bool) []Result {
	var all []Result
	for i, id := range ids {
		if keep != nil && !keep(id) {
			continue
		}
		var d float64
		for j := range dim {
			x := float64(q[j] - vectors[i*dim+j])
			d += x * x
		}
		all = append(all, Result{ID: id, Distance: float32(math.Sqrt(d))})
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].Distance < all[b].Distance })
	if len(all) > k {
		all = all[:k]
	}
	return all
}

// scaled returns n, or a third of it under the race detector.
func scaled(n int) int {
	if raceEnabled {
		return n / 3
	}
	return n
}
