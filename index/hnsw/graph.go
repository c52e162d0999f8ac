package hnsw

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"simsearch/internal/hugepages"
)

// maxLevels bounds a node's level. With M = 16 a level above 8 has
// probability 16⁻⁸ per node; the cap only guards against a degenerate Ml.
const maxLevels = 24

// lockStripes is the number of mutexes guarding neighbour lists during a
// parallel insertion; node n uses lock n % lockStripes. A goroutine never
// holds two of them at once, so striping cannot deadlock.
const lockStripes = 4096

// Graph is a Hierarchical Navigable Small World graph (Malkov & Yashunin,
// arXiv:1603.09320) over vectors of one dimension. Nodes are numbered 0, 1,
// 2, … in the order they are added.
//
// The exported parameters must be set before the first Add and not changed
// afterwards (except EfSearch, see below); NewGraph sets their defaults.
//
// Concurrency: a Graph is safe for concurrent use. Search, Vector, Len and
// Export take a read lock and run in parallel with each other; Add,
// AddBatch, Delete and Import take the write lock and wait for running
// searches. AddBatch may itself use several goroutines. EfSearch is read
// without a lock: set it before sharing the graph.
type Graph struct {
	// M is the number of neighbours a node keeps on each layer above the
	// bottom one; the bottom layer keeps up to 2·M. A good default is 16.
	M int

	// Ml is the level generation factor: a node reaches layer l with
	// probability exp(−l/Ml). The default is 1/ln(M), as in the paper.
	Ml float64

	// EfConstruction is the breadth of the search that finds a new node's
	// neighbours. Higher builds a better graph, more slowly. A good default
	// is 200.
	EfConstruction int

	// EfSearch is the breadth Search uses when it is given ef ≤ 0. It trades
	// speed for recall; it is raised to k when smaller. A good default is 64.
	EfSearch int

	// Metric is the distance. The default is Cosine (for unit vectors).
	Metric Metric

	// Seed decides node levels: the level of node i depends only on Seed
	// and i, so a graph built again from the same vectors in the same order
	// with one goroutine is identical.
	Seed uint64

	// Quantizer, when not nil, makes the graph keep each vector as Dim
	// bytes (Quantizer.Encode) instead of Dim float32s, a quarter of the
	// memory, and compute every distance to a node from its decoded
	// vector: Search's order and distances are then approximate, and the
	// caller re-ranks with the original vectors. Vector and Vectors return
	// decoded copies. The default is nil: float32 vectors.
	Quantizer *Quantizer

	mu sync.RWMutex

	dim      int
	frozen   bool // parameters validated and copied below
	m        int  // neighbours per upper layer
	m0       int  // neighbours on layer 0
	stride0  int  // uint32s per node on layer 0: count + m0 links
	strideUp int  // uint32s per node per upper layer: count + m links
	ml       float64
	efc      int
	metric   Metric

	n        int        // number of nodes
	vectors  []float32  // node i is vectors[i*dim : (i+1)*dim]; nil when quantized
	codes    []uint8    // node i is codes[i*dim : (i+1)*dim] when quantized
	q        *Quantizer // a copy of the quantizer, frozen with the graph; nil: float32
	levels   []uint8    // top layer of each node
	layer0   []uint32   // node i's layer-0 list at i*stride0: count, links…
	upperOff []uint32   // start of node i's upper lists in upper
	upper    []uint32   // layer l ≥ 1 of node i at upperOff[i] + (l−1)·strideUp

	deleted      []uint64 // tombstones, one bit per node
	deletedCount int

	entry    uint32
	maxLevel int // layer of the entry point; −1 when the graph is empty

	// Used only while AddBatch runs with several goroutines.
	parallel  bool
	nodeLocks [lockStripes]sync.Mutex
	entryMu   sync.Mutex

	pool sync.Pool // of *searcher

	searches        atomic.Uint64
	searchDistances atomic.Uint64
	distanceCount   atomic.Uint64
}

// NewGraph returns an empty graph for vectors of dimension dim with the
// default parameters: M 16, Ml 1/ln 16, EfConstruction 200, EfSearch 96,
// Metric Cosine, Seed 0. It panics if dim < 1.
func NewGraph(dim int) *Graph {
	if dim < 1 {
		panic(fmt.Sprintf("hnsw: dimension %d < 1", dim))
	}
	return &Graph{
		M:              16,
		Ml:             1 / math.Log(16),
		EfConstruction: 200,
		EfSearch:       96,
		Metric:         Cosine,
		dim:            dim,
		maxLevel:       -1,
	}
}

// freeze validates the exported parameters and copies them for use. It is
// called with the write lock held before the first insertion.
func (g *Graph) freeze() error {
	if g.frozen {
		return nil
	}
	if g.dim < 1 {
		return fmt.Errorf("hnsw: graph not made by NewGraph (dimension %d)", g.dim)
	}
	if g.M < 2 || g.M > 1024 {
		return fmt.Errorf("hnsw: M = %d, want 2 to 1024", g.M)
	}
	if !(g.Ml > 0) || g.Ml > 10 {
		return fmt.Errorf("hnsw: Ml = %v, want a number in (0, 10]", g.Ml)
	}
	if g.EfConstruction < 1 {
		return fmt.Errorf("hnsw: EfConstruction = %d, want ≥ 1", g.EfConstruction)
	}
	if !g.Metric.valid() {
		return fmt.Errorf("hnsw: unknown metric %d", g.Metric)
	}
	g.m = g.M
	g.m0 = 2 * g.M
	g.stride0 = 1 + g.m0
	g.strideUp = 1 + g.m
	g.ml = g.Ml
	g.efc = g.EfConstruction
	g.metric = g.Metric
	if q := g.Quantizer; q != nil {
		if err := q.check(g.dim); err != nil {
			return err
		}
		g.q = &Quantizer{Min: slices.Clone(q.Min), Scale: slices.Clone(q.Scale)}
	}
	g.frozen = true
	return nil
}

// Dim returns the dimension of the graph's vectors.
func (g *Graph) Dim() int { return g.dim }

// Len returns the number of nodes, deleted ones included.
func (g *Graph) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.n
}

// Deleted returns the number of nodes marked deleted.
func (g *Graph) Deleted() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.deletedCount
}

// Vector returns node's vector. The slice aliases the graph's storage and
// must not be modified; it stays valid after later insertions. A quantized
// graph returns a decoded copy. It panics if node does not exist.
func (g *Graph) Vector(node uint32) []float32 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if int(node) >= g.n {
		panic(fmt.Sprintf("hnsw: node %d out of range [0, %d)", node, g.n))
	}
	off := int(node) * g.dim
	if g.quantized() {
		return g.q.Decode(g.codes[off:off+g.dim], nil)
	}
	return g.vectors[off : off+g.dim : off+g.dim]
}

// Vectors returns the vectors of all nodes, node i at [i·Dim, (i+1)·Dim).
// The slice aliases the graph's storage and must not be modified; it stays
// valid (and unchanged) after later insertions, which append beyond it. A
// quantized graph returns a decoded copy.
func (g *Graph) Vectors() []float32 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.quantized() {
		out := make([]float32, 0, g.n*g.dim)
		for off := 0; off < g.n*g.dim; off += g.dim {
			out = g.q.Decode(g.codes[off:off+g.dim], out)
		}
		return out
	}
	return g.vectors[: g.n*g.dim : g.n*g.dim]
}

// quantized reports whether the graph keeps codes instead of vectors.
func (g *Graph) quantized() bool { return g.q != nil }

// store appends vectors (whole vectors of Dim values) to the graph's
// storage, as codes when quantized.
func (g *Graph) store(vectors []float32) {
	if !g.quantized() {
		g.vectors = append(g.vectors, vectors...)
		return
	}
	for off := 0; off < len(vectors); off += g.dim {
		g.codes = g.q.Encode(vectors[off:off+g.dim], g.codes)
	}
}

// MemoryBytes returns the bytes the graph holds for its vectors and links
// (capacity reserved for later insertions included).
func (g *Graph) MemoryBytes() int64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return int64(4*cap(g.vectors) + cap(g.codes) + cap(g.levels) + 4*cap(g.layer0) + 4*cap(g.upperOff) + 4*cap(g.upper) + 8*cap(g.deleted))
}

// EstimateMemoryBytes returns about what MemoryBytes gives for a graph of n
// nodes of dim values and M neighbours per upper layer, built, without
// building it: each node's vector (dim bytes of codes when quantized), its
// level, its layer-0 list and upper-list offset, the 1/(M−1) upper layers a
// node has on average, and its tombstone bit.
func EstimateMemoryBytes(n, dim, M int, quantized bool) int64 {
	value := 4
	if quantized {
		value = 1
	}
	perNode := float64(value*dim+1+4*(1+2*M)+4) + float64(4*(1+M))/float64(M-1)
	return int64(float64(n)*perNode) + int64(n+63)/64*8
}

// Reserve makes room for n nodes in total, so that adding up to that many
// does not reallocate the storage.
func (g *Graph) Reserve(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.freeze(); err != nil {
		panic(err)
	}
	g.grow(n)
}

// grow ensures capacity for n nodes. The write lock is held.
func (g *Graph) grow(n int) {
	if n <= cap(g.levels) {
		return
	}
	if g.quantized() {
		g.codes = growSlice(g.codes, n*g.dim)
	} else {
		g.vectors = growSlice(g.vectors, n*g.dim)
	}
	g.levels = growSlice(g.levels, n)
	g.layer0 = growSlice(g.layer0, n*g.stride0)
	g.upperOff = growSlice(g.upperOff, n)
	g.deleted = growSlice(g.deleted, (n+63)/64)
}

// growSlice returns s with room for n elements. Large slices are advised
// for huge pages: a search's scattered reads then miss the TLB far less.
func growSlice[T any](s []T, n int) []T { return hugepages.Grow(s, n) }

// distance between node's vector and q.
func (g *Graph) distance(s *searcher, q []float32, node uint32) float32 {
	s.distances++
	if g.quantized() {
		return g.codeDistance(s, q, node)
	}
	return g.vectorDistance(q, node)
}

// vectorDistance is the distance between q and node's float32 vector.
func (g *Graph) vectorDistance(q []float32, node uint32) float32 {
	off := int(node) * g.dim
	v := g.vectors[off : off+g.dim]
	if g.metric == Cosine {
		return 1 - dot(q, v)
	}
	return euclidean(q, v)
}

// rowsAhead is how many rows ahead the row kernels prefetch (see
// BenchmarkDistancesTo); without the assembly it is unused.
var rowsAhead = 4

// distancesTo returns the distances between q and each of nodes, in
// s.dists. Where the row kernels run it computes them in one call that
// prefetches the vectors ahead of the products; a quantized graph
// prefetches the nodes' codes, then computes each distance.
func (g *Graph) distancesTo(s *searcher, q []float32, nodes []uint32) []float32 {
	s.distances += len(nodes)
	if cap(s.dists) < len(nodes) {
		s.dists = make([]float32, len(nodes), 2*len(nodes))
	}
	out := s.dists[:len(nodes)]
	switch {
	case g.quantized():
		if g.metric == Cosine {
			g.prepareOnce(s, q)
			if codeDotRowsAsm(s.prep.a, g.codes[:g.n*g.dim], nodes, out) {
				for i, p := range out {
					out[i] = 1 - (s.prep.offset + p)
				}
				break
			}
		}
		prefetchNodes(unsafe.Pointer(unsafe.SliceData(g.codes)), g.dim, nodes)
		for i, nb := range nodes {
			out[i] = g.codeDistance(s, q, nb)
		}
	case rowsAsm(g.dim) && g.metric == Cosine:
		dotRowsAsm(q, g.vectors[:g.n*g.dim], nodes, out)
		for i, p := range out {
			out[i] = 1 - p
		}
	case rowsAsm(g.dim):
		squaredRowsAsm(q, g.vectors[:g.n*g.dim], nodes, out)
		for i, sq := range out {
			out[i] = float32(math.Sqrt(float64(sq)))
		}
	default:
		for i, nb := range nodes {
			out[i] = g.vectorDistance(q, nb)
		}
	}
	return out
}

// nodeDistance is the distance between two nodes.
func (g *Graph) nodeDistance(s *searcher, a, b uint32) float32 {
	off := int(a) * g.dim
	if g.quantized() {
		s.decoded = g.q.Decode(g.codes[off:off+g.dim], s.decoded[:0])
		s.prep.of = nil // s.decoded holds another vector than last time
		return g.distance(s, s.decoded, b)
	}
	return g.distance(s, g.vectors[off:off+g.dim], b)
}

// nodeDistances is distancesTo from node a's vector.
func (g *Graph) nodeDistances(s *searcher, a uint32, nodes []uint32) []float32 {
	off := int(a) * g.dim
	if g.quantized() {
		s.decoded = g.q.Decode(g.codes[off:off+g.dim], s.decoded[:0])
		s.prep.of = nil // s.decoded holds another vector than last time
		return g.distancesTo(s, s.decoded, nodes)
	}
	return g.distancesTo(s, g.vectors[off:off+g.dim], nodes)
}

// randomLevel draws node's level from the exponential distribution with
// scale Ml, seeded by Seed and the node number.
func (g *Graph) randomLevel(node uint32) int {
	var src rand.PCG
	src.Seed(g.Seed, uint64(node))
	u := float64(src.Uint64()>>11) * 0x1p-53 // in [0, 1)
	level := int(-math.Log(1-u) * g.ml)
	return min(level, maxLevels)
}

// links returns node's neighbour list on level. The slice aliases the
// graph's storage: read it only under the node's lock during a parallel
// insertion (see readLinks).
func (g *Graph) links(node uint32, level int) []uint32 {
	list := g.slot(node, level)
	return list[1 : 1+list[0]]
}

// slot returns node's whole neighbour slot on level: the count, then room
// for the largest list the level allows.
func (g *Graph) slot(node uint32, level int) []uint32 {
	if level == 0 {
		off := int(node) * g.stride0
		return g.layer0[off : off+g.stride0]
	}
	off := int(g.upperOff[node]) + (level-1)*g.strideUp
	return g.upper[off : off+g.strideUp]
}

// readLinks returns node's neighbour list on level, copied into s.links
// under the node's lock when insertions run in parallel.
func (g *Graph) readLinks(s *searcher, node uint32, level int) []uint32 {
	if !g.parallel {
		return g.links(node, level)
	}
	lock := &g.nodeLocks[node%lockStripes]
	lock.Lock()
	s.links = append(s.links[:0], g.links(node, level)...)
	lock.Unlock()
	return s.links
}

// setLinks replaces node's neighbour list on level. The caller holds the
// node's lock during a parallel insertion.
func (g *Graph) setLinks(node uint32, level int, nodes []candidate) {
	list := g.slot(node, level)
	if len(nodes) > len(list)-1 {
		panic("hnsw: neighbour list overflow")
	}
	list[0] = uint32(len(nodes))
	for i, c := range nodes {
		list[1+i] = c.node
	}
}

// appendLink adds neighbour to node's list on level if there is room and
// reports whether there was.
func (g *Graph) appendLink(node uint32, level int, neighbour uint32) bool {
	list := g.slot(node, level)
	count := int(list[0])
	if count+1 >= len(list) {
		return false
	}
	list[1+count] = neighbour
	list[0] = uint32(count + 1)
	return true
}

// maxLinks is the capacity of a neighbour list on level.
func (g *Graph) maxLinks(level int) int {
	if level == 0 {
		return g.m0
	}
	return g.m
}

// isDeleted reports node's tombstone.
func (g *Graph) isDeleted(node uint32) bool {
	return g.deleted[node/64]&(1<<(node%64)) != 0
}

// Delete marks node deleted: searches no longer return it but still pass
// through it, so the graph stays connected. Deleting is permanent; build a
// new graph to reclaim the space. It reports whether node was live.
func (g *Graph) Delete(node uint32) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if int(node) >= g.n || g.isDeleted(node) {
		return false
	}
	g.deleted[node/64] |= 1 << (node % 64)
	g.deletedCount++
	return true
}

// IsDeleted reports whether node is marked deleted.
func (g *Graph) IsDeleted(node uint32) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return int(node) < g.n && g.isDeleted(node)
}
