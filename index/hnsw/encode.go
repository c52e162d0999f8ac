package hnsw

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"simsearch/internal/hugepages"
)

// encodingVersion is the version of the format written by Export. Version
// 1 was coder/hnsw's (maps of keys, vectors inline); version 2 is this
// package's (dense node numbers, no vectors).
const encodingVersion = 2

var encodingMagic = [4]byte{'h', 'n', 's', 'w'}

// ErrFormat is wrapped by the errors Import returns for input that is not
// a graph of a known version or is damaged.
var ErrFormat = errors.New("hnsw: bad graph encoding")

// Export writes the graph's structure (parameters, levels, neighbour
// lists, tombstones) to w, little-endian, without the vectors: the caller
// keeps those and hands them back to Import. It takes the read lock.
func (g *Graph) Export(w io.Writer) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if !g.frozen {
		if err := g.validateParams(); err != nil {
			return err
		}
	}
	m, efc, ml, metric := g.M, g.EfConstruction, g.Ml, g.Metric
	if g.frozen {
		m, efc, ml, metric = g.m, g.efc, g.ml, g.metric
	}
	e := encoder{w: w, buf: make([]byte, 0, 64<<10)}
	e.bytes(encodingMagic[:])
	e.u32(encodingVersion)
	e.u32(uint32(g.dim))
	e.u32(uint32(m))
	e.f64(ml)
	e.u32(uint32(efc))
	e.u8(uint8(metric))
	e.u64(g.Seed)
	e.u32(uint32(g.n))
	e.u32(g.entry)
	e.u32(uint32(int32(g.maxLevel)))
	e.bytes(g.levels[:g.n])
	for node := range g.n {
		e.list(g.links(uint32(node), 0))
	}
	for node := range g.n {
		for l := 1; l <= int(g.levels[node]); l++ {
			e.list(g.links(uint32(node), l))
		}
	}
	for _, word := range g.deleted[:(g.n+63)/64] {
		e.u64(word)
	}
	e.flush()
	return e.err
}

// validateParams checks the exported parameters without freezing them.
func (g *Graph) validateParams() error {
	probe := &Graph{M: g.M, Ml: g.Ml, EfConstruction: g.EfConstruction, Metric: g.Metric, dim: g.dim}
	return probe.freeze()
}

// Import replaces the graph's contents with a structure written by Export
// and the vectors it was built over (node i at vectors[i·Dim:]). The graph
// takes ownership of vectors (a quantized graph, see Quantizer, encodes
// them and keeps only the codes). M, Ml, EfConstruction, Metric and Seed are
// set from the encoding, since the structure depends on them; EfSearch, a
// search-time setting, is left as it is. The dimension must match the
// graph's. On error the graph is left empty. It takes the write lock.
func (g *Graph) Import(r io.Reader, vectors []float32) (err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	defer func() {
		if err != nil {
			g.reset()
		}
	}()
	d := decoder{r: bufio.NewReaderSize(r, 256<<10), buf: make([]byte, 64<<10)}
	var magic [4]byte
	d.read(magic[:])
	version := d.u32()
	if d.err != nil {
		return fmt.Errorf("%w: reading header: %v", ErrFormat, d.err)
	}
	if magic != encodingMagic {
		return fmt.Errorf("%w: not an HNSW graph", ErrFormat)
	}
	if version != encodingVersion {
		return fmt.Errorf("%w: encoding version %d, this build reads version %d", ErrFormat, version, encodingVersion)
	}
	dim := int(d.u32())
	m := int(d.u32())
	ml := d.f64()
	efc := int(d.u32())
	metric := Metric(d.u8())
	seed := d.u64()
	n := int(d.u32())
	entry := d.u32()
	maxLevel := int(int32(d.u32()))
	if d.err != nil {
		return fmt.Errorf("%w: reading parameters: %v", ErrFormat, d.err)
	}
	if dim != g.dim {
		return fmt.Errorf("%w: dimension %d, graph has %d", ErrFormat, dim, g.dim)
	}
	if len(vectors) != n*dim {
		return fmt.Errorf("%w: %d nodes but %d vectors given", ErrFormat, n, len(vectors)/max(dim, 1))
	}
	g.reset()
	g.M, g.Ml, g.EfConstruction, g.Metric, g.Seed = m, ml, efc, metric, seed
	if err := g.freeze(); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if (n == 0) != (maxLevel < 0) || maxLevel >= maxLevels || (n > 0 && int(entry) >= n) {
		return fmt.Errorf("%w: entry point %d at level %d for %d nodes", ErrFormat, entry, maxLevel, n)
	}

	if g.quantized() {
		g.codes = hugepages.Make[uint8](0, n*dim)
		g.store(vectors)
	} else {
		g.vectors = vectors
	}
	g.levels = make([]uint8, n)
	g.upperOff = make([]uint32, 0, n)
	g.layer0 = hugepages.Make[uint32](n*g.stride0, n*g.stride0)
	g.deleted = make([]uint64, (n+63)/64)
	d.read(g.levels)
	if d.err != nil {
		return fmt.Errorf("%w: reading levels: %v", ErrFormat, d.err)
	}
	upperSize := 0
	for node, level := range g.levels {
		if int(level) > maxLevel {
			return fmt.Errorf("%w: decoding node %d: level %d above the top level %d", ErrFormat, node, level, maxLevel)
		}
		g.upperOff = append(g.upperOff, uint32(upperSize))
		upperSize += int(level) * g.strideUp
	}
	if n > 0 && int(g.levels[entry]) != maxLevel {
		return fmt.Errorf("%w: entry point %d is not on the top level", ErrFormat, entry)
	}
	for node := range n {
		if err := d.list(g.layer0[node*g.stride0:(node+1)*g.stride0], n); err != nil {
			return fmt.Errorf("%w: decoding node %d: %v", ErrFormat, node, err)
		}
	}
	g.upper = hugepages.Make[uint32](upperSize, upperSize)
	for node := range n {
		for l := 1; l <= int(g.levels[node]); l++ {
			off := int(g.upperOff[node]) + (l-1)*g.strideUp
			if err := d.list(g.upper[off:off+g.strideUp], n); err != nil {
				return fmt.Errorf("%w: decoding node %d, level %d: %v", ErrFormat, node, l, err)
			}
			for _, nb := range g.upper[off+1 : off+1+int(g.upper[off])] {
				if int(g.levels[nb]) < l {
					return fmt.Errorf("%w: decoding node %d: neighbour %d is not on level %d", ErrFormat, node, nb, l)
				}
			}
		}
	}
	for i := range g.deleted {
		g.deleted[i] = d.u64()
	}
	if d.err != nil {
		return fmt.Errorf("%w: reading tombstones: %v", ErrFormat, d.err)
	}
	if n%64 != 0 && len(g.deleted) > 0 && g.deleted[len(g.deleted)-1]>>(n%64) != 0 {
		return fmt.Errorf("%w: tombstone beyond the last node", ErrFormat)
	}
	for _, word := range g.deleted {
		g.deletedCount += popcount(word)
	}
	g.n = n
	g.entry = entry
	g.maxLevel = maxLevel
	return nil
}

// reset empties the graph, keeping its dimension and exported parameters.
func (g *Graph) reset() {
	g.frozen = false
	g.n = 0
	g.vectors, g.levels, g.layer0, g.upperOff, g.upper, g.deleted = nil, nil, nil, nil, nil, nil
	g.codes, g.q = nil, nil
	g.deletedCount = 0
	g.entry, g.maxLevel = 0, -1
}

func popcount(x uint64) int {
	n := 0
	for x != 0 {
		x &= x - 1
		n++
	}
	return n
}

// encoder writes little-endian values through a buffer, keeping the first
// error.
type encoder struct {
	w   io.Writer
	buf []byte
	err error
}

func (e *encoder) need(n int) {
	if len(e.buf)+n > cap(e.buf) {
		e.flush()
	}
}

func (e *encoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

func (e *encoder) u8(v uint8)   { e.need(1); e.buf = append(e.buf, v) }
func (e *encoder) u32(v uint32) { e.need(4); e.buf = binary.LittleEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64) { e.need(8); e.buf = binary.LittleEndian.AppendUint64(e.buf, v) }
func (e *encoder) f64(v float64) {
	e.u64(math.Float64bits(v))
}

func (e *encoder) bytes(b []byte) {
	for len(b) > 0 {
		e.need(1)
		n := min(len(b), cap(e.buf)-len(e.buf))
		e.buf = append(e.buf, b[:n]...)
		b = b[n:]
	}
}

// list writes a neighbour list as its count and its links.
func (e *encoder) list(links []uint32) {
	e.u32(uint32(len(links)))
	for _, l := range links {
		e.u32(l)
	}
}

// decoder reads little-endian values, keeping the first error.
type decoder struct {
	r   io.Reader
	buf []byte
	err error
}

func (d *decoder) read(b []byte) {
	if d.err != nil {
		return
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

func (d *decoder) u8() uint8 {
	d.read(d.buf[:1])
	if d.err != nil {
		return 0
	}
	return d.buf[0]
}

func (d *decoder) u32() uint32 {
	d.read(d.buf[:4])
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint32(d.buf)
}

func (d *decoder) u64() uint64 {
	d.read(d.buf[:8])
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(d.buf)
}

func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }

// list reads a neighbour list into dst (count, then links), checking the
// count against the capacity and every link against n.
func (d *decoder) list(dst []uint32, n int) error {
	count := d.u32()
	if d.err != nil {
		return d.err
	}
	if int(count) > len(dst)-1 {
		return fmt.Errorf("%d neighbours, at most %d allowed", count, len(dst)-1)
	}
	raw := d.buf[:4*count]
	d.read(raw)
	if d.err != nil {
		return d.err
	}
	dst[0] = count
	for i := range int(count) {
		link := binary.LittleEndian.Uint32(raw[4*i:])
		if int(link) >= n {
			return fmt.Errorf("neighbour %d out of range [0, %d)", link, n)
		}
		dst[1+i] = link
	}
	return nil
}
