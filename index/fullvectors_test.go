package index

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestViewCursor reads a view of uneven segments through a cursor, in
// ascending, descending and random node order, and compares every vector
// with the view's own lookup.
func TestViewCursor(t *testing.T) {
	const dim = 3
	v := &vectorView{dim: dim}
	node := 0
	for _, size := range []int{5, 1, 1, 17, 2, 9} {
		v.starts = append(v.starts, uint32(node))
		seg := make([]float32, size*dim)
		for i := range seg {
			seg[i] = float32(node*dim + i)
		}
		v.segs = append(v.segs, seg)
		node += size
	}
	n := node
	ascending := make([]uint32, n)
	for i := range ascending {
		ascending[i] = uint32(i)
	}
	descending := slices.Clone(ascending)
	slices.Reverse(descending)
	random := make([]uint32, 200)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = uint32(rng.IntN(n))
	}
	for name, order := range map[string][]uint32{"ascending": ascending, "descending": descending, "random": random} {
		cur := viewCursor{v: v}
		for _, nd := range order {
			got := cur.at(nd)
			if !slices.Equal(got, v.at(nd)) || got[0] != float32(int(nd)*dim) {
				t.Fatalf("%s: node %d reads %v, want the values from %d", name, nd, got, int(nd)*dim)
			}
		}
	}
}
