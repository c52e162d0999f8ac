package hnsw

import (
	"fmt"
	"math"
)

// Quantizer is int8 scalar quantization with a range per dimension: value
// x of dimension i is stored as the byte c = round((x − Min[i]) / Scale[i]),
// clamped to [0, 255], and read back as Min[i] + Scale[i]·c. Inside the
// range a value comes back within Scale[i]/2 of itself; outside it, it is
// clamped to the range's ends. It is a plain value; a Graph reads it only
// when frozen (before its first insertion).
type Quantizer struct {
	Min, Scale []float32
}

// FitQuantizer returns the quantizer whose ranges are the smallest and
// largest values of each dimension in vectors (len(vectors)/dim vectors of
// dim values one after another). A dimension whose values are all equal
// gets Scale 0 and comes back exact. It panics if len(vectors) is not a
// positive multiple of dim.
func FitQuantizer(vectors []float32, dim int) *Quantizer {
	if dim < 1 || len(vectors) == 0 || len(vectors)%dim != 0 {
		panic(fmt.Sprintf("hnsw: %d values are not vectors of dimension %d", len(vectors), dim))
	}
	lo := make([]float32, dim)
	hi := make([]float32, dim)
	copy(lo, vectors[:dim])
	copy(hi, vectors[:dim])
	for off := dim; off < len(vectors); off += dim {
		v := vectors[off : off+dim]
		for i, x := range v {
			lo[i] = min(lo[i], x)
			hi[i] = max(hi[i], x)
		}
	}
	scale := make([]float32, dim)
	for i := range scale {
		scale[i] = (hi[i] - lo[i]) / 255
	}
	return &Quantizer{Min: lo, Scale: scale}
}

// Dim returns the quantizer's dimension.
func (q *Quantizer) Dim() int { return len(q.Min) }

// check returns an error unless q is usable for vectors of dimension dim.
func (q *Quantizer) check(dim int) error {
	if len(q.Min) != dim || len(q.Scale) != dim {
		return fmt.Errorf("hnsw: quantizer of dimension %d/%d for a graph of dimension %d", len(q.Min), len(q.Scale), dim)
	}
	for i := range q.Min {
		m, s := float64(q.Min[i]), float64(q.Scale[i])
		if math.IsNaN(m) || math.IsInf(m, 0) || math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
			return fmt.Errorf("hnsw: quantizer dimension %d has min %v, scale %v", i, q.Min[i], q.Scale[i])
		}
	}
	return nil
}

// Encode appends the codes of v (Dim values) to dst and returns dst.
func (q *Quantizer) Encode(v []float32, dst []uint8) []uint8 {
	if len(v) != len(q.Min) {
		panic(fmt.Sprintf("hnsw: vector of dimension %d for a quantizer of dimension %d", len(v), len(q.Min)))
	}
	for i, x := range v {
		var c float32
		if s := q.Scale[i]; s > 0 {
			c = (x - q.Min[i]) / s
		}
		switch {
		case !(c > 0): // also NaN
			dst = append(dst, 0)
		case c >= 255:
			dst = append(dst, 255)
		default:
			dst = append(dst, uint8(c+0.5))
		}
	}
	return dst
}

// Decode appends the values codes stand for to dst and returns dst.
func (q *Quantizer) Decode(codes []uint8, dst []float32) []float32 {
	if len(codes) != len(q.Min) {
		panic(fmt.Sprintf("hnsw: %d codes for a quantizer of dimension %d", len(codes), len(q.Min)))
	}
	for i, c := range codes {
		dst = append(dst, q.Min[i]+q.Scale[i]*float32(c))
	}
	return dst
}

// codeDot is Σ a[i]·c[i] + offset: with a = query·Scale and offset =
// query·Min, the dot product of the query with the decoded vector.
func codeDot(a []float32, c []uint8, offset float32) float32 {
	c = c[:len(a)]
	s0, i := codeDotAsm(a, c)
	var s1, s2, s3 float32
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * float32(c[i])
		s1 += a[i+1] * float32(c[i+1])
		s2 += a[i+2] * float32(c[i+2])
		s3 += a[i+3] * float32(c[i+3])
	}
	for ; i < len(a); i++ {
		s0 += a[i] * float32(c[i])
	}
	return offset + (s0 + s1) + (s2 + s3)
}

// codeSquaredDistance is Σ (a[i] − scale[i]·c[i])²: with a = query − Min,
// the squared distance between the query and the decoded vector.
func codeSquaredDistance(a, scale []float32, c []uint8) float32 {
	c = c[:len(a)]
	scale = scale[:len(a)]
	s0, i := codeSquaredAsm(a, scale, c)
	var s1 float32
	for ; i+2 <= len(a); i += 2 {
		d0 := a[i] - scale[i]*float32(c[i])
		d1 := a[i+1] - scale[i+1]*float32(c[i+1])
		s0 += d0 * d0
		s1 += d1 * d1
	}
	for ; i < len(a); i++ {
		d := a[i] - scale[i]*float32(c[i])
		s0 += d * d
	}
	return s0 + s1
}

// prepared is a query made ready for distances to codes: a is q·Scale and
// offset q·Min for Cosine, a is q − Min for Euclidean.
type prepared struct {
	of     *float32 // the query's first value: which query a is for
	a      []float32
	offset float32
}

// prepare makes s.prep ready for q.
func (g *Graph) prepare(s *searcher, q []float32) {
	s.prep.a = s.prep.a[:0]
	s.prep.offset = 0
	if g.metric == Cosine {
		for i, x := range q {
			s.prep.a = append(s.prep.a, x*g.q.Scale[i])
			s.prep.offset += x * g.q.Min[i]
		}
	} else {
		for i, x := range q {
			s.prep.a = append(s.prep.a, x-g.q.Min[i])
		}
	}
	s.prep.of = &q[0]
}

// prepareOnce prepares q unless s holds it prepared already.
func (g *Graph) prepareOnce(s *searcher, q []float32) {
	if s.prep.of != &q[0] {
		g.prepare(s, q)
	}
}

// codeDistance is the distance between q and node's decoded vector.
func (g *Graph) codeDistance(s *searcher, q []float32, node uint32) float32 {
	g.prepareOnce(s, q)
	off := int(node) * g.dim
	c := g.codes[off : off+g.dim]
	if g.metric == Cosine {
		return 1 - codeDot(s.prep.a, c, s.prep.offset)
	}
	return float32(math.Sqrt(float64(codeSquaredDistance(s.prep.a, g.q.Scale, c))))
}
