package hnsw

import (
	"bytes"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestQuantizerRoundTripWithinHalfAStep(t *testing.T) {
	const seed, dim = 3, 24
	t.Logf("seed %d", seed)
	vectors := clusteredVectors(seed, 500, dim, 5, 0.4)
	q := FitQuantizer(vectors, dim)
	var codes []uint8
	var back []float32
	for off := 0; off < len(vectors); off += dim {
		codes = q.Encode(vectors[off:off+dim], codes[:0])
		back = q.Decode(codes, back[:0])
		for i, x := range vectors[off : off+dim] {
			// Half a step, and float32 rounding of min + scale·c.
			if bound := q.Scale[i]/2 + 1e-6; math.Abs(float64(back[i]-x)) > float64(bound) {
				t.Fatalf("vector %d, dimension %d: %v came back as %v, more than %v away", off/dim, i, x, back[i], bound)
			}
		}
	}

	// Values outside the range are clamped to its ends; a constant
	// dimension comes back exact.
	flat := FitQuantizer([]float32{1, 0.5, 1, -0.5}, 2)
	if flat.Scale[0] != 0 {
		t.Fatalf("constant dimension has scale %v", flat.Scale[0])
	}
	got := flat.Decode(flat.Encode([]float32{1, 7}, nil), nil)
	if got[0] != 1 || math.Abs(float64(got[1]-0.5)) > 1e-6 {
		t.Errorf("decoded %v, want [1 0.5] (clamped to the range)", got)
	}
	got = flat.Decode(flat.Encode([]float32{1, -7}, nil), nil)
	if math.Abs(float64(got[1]+0.5)) > 1e-6 {
		t.Errorf("decoded %v, want [1 -0.5]", got)
	}
}

func TestCodeDistancesMatchDecodedVectors(t *testing.T) {
	const dim = 19 // not a multiple of the kernels' unrolling
	vectors := clusteredVectors(4, 50, dim, 3, 0.5)
	for _, metric := range []Metric{Cosine, Euclidean} {
		g := NewGraph(dim)
		g.Metric = metric
		g.Quantizer = FitQuantizer(vectors, dim)
		g.AddBatch(vectors, 1)
		s := g.getSearcher(g.Len())
		query := vectors[7*dim : 8*dim]
		for node := range uint32(50) {
			want := metric.Distance(query, g.Vector(node))
			if got := g.distance(s, query, node); math.Abs(float64(got-want)) > 1e-5 {
				t.Errorf("%v: distance to node %d is %v, decoded vectors give %v", metric, node, got, want)
			}
			if got, want := g.nodeDistance(s, 7, node), metric.Distance(g.Vector(7), g.Vector(node)); math.Abs(float64(got-want)) > 1e-5 {
				t.Errorf("%v: node distance 7–%d is %v, decoded vectors give %v", metric, node, got, want)
			}
		}
		g.putSearcher(s)
	}
}

// rerank orders found by the exact distance to q and keeps k.
func rerank(metric Metric, vectors []float32, dim int, q []float32, found []Result, k int) []Result {
	out := make([]Result, len(found))
	for i, r := range found {
		out[i] = Result{Node: r.Node, Distance: metric.Distance(q, vectors[int(r.Node)*dim:int(r.Node+1)*dim])}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Distance < out[b].Distance })
	return out[:min(k, len(out))]
}

func TestQuantizedRecallCloseToFloat32(t *testing.T) {
	const seed, dim, k, ef = 11, 32, 10, 48
	t.Logf("seed %d", seed)
	n := scaled(6000)
	vectors := clusteredVectors(seed, n, dim, 30, 0.6)
	queries := clusteredVectors(seed+1, 100, dim, 30, 0.6)

	plain := NewGraph(dim)
	plain.AddBatch(vectors, 2)
	small := NewGraph(dim)
	small.Quantizer = FitQuantizer(vectors, dim)
	small.AddBatch(vectors, 2)

	var plainRecall, smallRecall float64
	for qi := 0; qi < len(queries); qi += dim {
		q := queries[qi : qi+dim]
		truth := bruteForce(Cosine, vectors, dim, q, k, nil)
		plainRecall += recall(plain.Search(q, k, ef, nil, nil), truth)
		found := small.Search(q, ef, ef, nil, nil)
		smallRecall += recall(rerank(Cosine, vectors, dim, q, found, k), truth)
	}
	nq := float64(len(queries) / dim)
	plainRecall, smallRecall = plainRecall/nq, smallRecall/nq
	t.Logf("recall@%d at ef %d: float32 %.4f, int8 re-ranked %.4f", k, ef, plainRecall, smallRecall)
	if smallRecall < plainRecall-0.02 {
		t.Errorf("int8 recall %.4f, float32 %.4f: more than 0.02 apart", smallRecall, plainRecall)
	}
	if small.MemoryBytes() >= plain.MemoryBytes() {
		t.Errorf("quantized graph holds %d bytes, float32 %d", small.MemoryBytes(), plain.MemoryBytes())
	}
}

func TestQuantizedExportImport(t *testing.T) {
	const dim = 16
	vectors := clusteredVectors(5, 800, dim, 8, 0.5)
	quant := FitQuantizer(vectors, dim)
	g := NewGraph(dim)
	g.Quantizer = quant
	g.AddBatch(vectors, 1)
	var buf bytes.Buffer
	if err := g.Export(&buf); err != nil {
		t.Fatal(err)
	}
	back := NewGraph(dim)
	back.Quantizer = quant
	if err := back.Import(&buf, append([]float32(nil), vectors...)); err != nil {
		t.Fatal(err)
	}
	for qi := 0; qi < 20; qi++ {
		q := vectors[qi*dim : (qi+1)*dim]
		a, b := g.Search(q, 10, 32, nil, nil), back.Search(q, 10, 32, nil, nil)
		if len(a) != len(b) {
			t.Fatalf("query %d: %d results, %d after import", qi, len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("query %d: result %d is %v, %v after import", qi, i, a[i], b[i])
			}
		}
	}
}

func TestCodeKernelsMatchPlainLoops(t *testing.T) {
	const seed = 9
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for n := 0; n <= 70; n++ {
		a, scale, c := make([]float32, n), make([]float32, n), make([]uint8, n)
		for i := range n {
			a[i], scale[i], c[i] = float32(rng.NormFloat64()), rng.Float32()/100, uint8(rng.IntN(256))
		}
		var dot, squared float64
		for i := range n {
			dot += float64(a[i]) * float64(c[i])
			d := float64(a[i]) - float64(scale[i])*float64(c[i])
			squared += d * d
		}
		if got := codeDot(a, c, 0.5); math.Abs(float64(got)-(dot+0.5)) > 1e-3*(1+math.Abs(dot)) {
			t.Errorf("n %d: codeDot %v, want %v", n, got, dot+0.5)
		}
		if got := codeSquaredDistance(a, scale, c); math.Abs(float64(got)-squared) > 1e-4*(1+squared) {
			t.Errorf("n %d: codeSquaredDistance %v, want %v", n, got, squared)
		}
	}
}

// TestEstimateMemoryBytes checks the estimate of a graph's memory against
// what graphs built to that size hold.
func TestEstimateMemoryBytes(t *testing.T) {
	const n, dim = 3000, 24
	vectors := clusteredVectors(5, n, dim, 20, 0.6)
	for _, quantized := range []bool{false, true} {
		for _, m := range []int{8, 16} {
			g := NewGraph(dim)
			g.M = m
			g.Ml = 1 / math.Log(float64(m))
			if quantized {
				g.Quantizer = FitQuantizer(vectors, dim)
			}
			g.Reserve(n)
			g.AddBatch(vectors, 2)
			got, want := EstimateMemoryBytes(n, dim, m, quantized), g.MemoryBytes()
			t.Logf("quantized %v, M %d: estimate %d bytes, graph %d", quantized, m, got, want)
			if math.Abs(float64(got-want)) > 0.05*float64(want) {
				t.Errorf("quantized %v, M %d: estimate %d bytes, the graph holds %d", quantized, m, got, want)
			}
		}
	}
}
