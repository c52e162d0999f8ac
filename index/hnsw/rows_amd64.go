//go:build amd64 && !purego

package hnsw

import "unsafe"

// prefetchRows asks the CPU to load into its caches the rowBytes bytes at
// base + nodes[i]·rowBytes for each i < n. A prefetch never faults, and it
// changes no memory: only what the next reads will wait for.
//
//go:noescape
func prefetchRows(base unsafe.Pointer, rowBytes int, nodes *uint32, n int)

// prefetch asks the CPU to load the cache line holding p.
//
//go:noescape
func prefetch(p unsafe.Pointer)

//go:noescape
func dotRows(q, base *float32, dim int, nodes *uint32, n int, out *float32, ahead int)

//go:noescape
func squaredRows(q, base *float32, dim int, nodes *uint32, n int, out *float32, ahead int)

// rowsAsm tells whether the row kernels can run for vectors of dim values.
func rowsAsm(dim int) bool { return useAVX2 && dim%16 == 0 }

// dotRowsAsm sets out[i] to the dot product of q with the vector of
// nodes[i] in vectors (dim values each). The caller checks rowsAsm, that
// every node's vector lies inside vectors and that len(out) ≥ len(nodes).
func dotRowsAsm(q, vectors []float32, nodes []uint32, out []float32) {
	if len(nodes) == 0 {
		return
	}
	_ = out[len(nodes)-1]
	dotRows(&q[0], &vectors[0], len(q), &nodes[0], len(nodes), &out[0], rowsAhead)
}

// squaredRowsAsm is dotRowsAsm for squared Euclidean distances.
func squaredRowsAsm(q, vectors []float32, nodes []uint32, out []float32) {
	if len(nodes) == 0 {
		return
	}
	_ = out[len(nodes)-1]
	squaredRows(&q[0], &vectors[0], len(q), &nodes[0], len(nodes), &out[0], rowsAhead)
}

// prefetchNodes prefetches the rows of nodes in storage, rowBytes each.
func prefetchNodes(storage unsafe.Pointer, rowBytes int, nodes []uint32) {
	if len(nodes) > 0 && storage != nil {
		prefetchRows(storage, rowBytes, &nodes[0], len(nodes))
	}
}
