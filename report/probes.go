package report

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"math/rand/v2"

	"simsearch/dataset"
	"simsearch/index"
	"simsearch/ingest"
)

// probeGroup is one experiment of probe items: sets of images that an
// encoder invariant to something would map to one point each.
type probeGroup struct {
	// name is the items' Group in the database.
	name string
	// augmentation is the canonical augmentation of an orbit group.
	augmentation string
	// sets holds the item ids of each set.
	sets [][]index.ItemID
}

// probeStore makes probe groups and keeps them in the database, so that
// every space of one resolution shares the same probe items and a second
// report reuses them.
type probeStore struct {
	db *index.DB
	// nextSet is the next unused set id, 0 until first needed.
	nextSet uint32
}

func newProbeStore(db *index.DB) *probeStore { return &probeStore{db: db} }

// Salts keep the random streams of probes apart from the dataset's own
// items of the same seed.
const (
	interventionSalt = 0x1e7e5e7
	orbitSalt        = 0x0eb175
)

// interventions returns the intervention group of factor at the encoder's
// resolution, with vectors in space: opts.Bases base items from the
// generator, each varied in factor alone (rotation varies squares and
// triangles only: a rotated circle is the same image).
func (p *probeStore) interventions(ctx context.Context, space *index.Space, enc Encoder, factor dataset.Factor, opts Options) (*probeGroup, error) {
	res := enc.Res()
	spec := dataset.Spec{N: opts.Bases, Seed: opts.Seed ^ interventionSalt, Res: res}
	sets := make([][]*image.RGBA, opts.Bases)
	factors := make([][]dataset.Factors, opts.Bases)
	for i := range sets {
		base := spec.Factors(i)
		if factor == dataset.FactorRotation && base.Shape == dataset.Circle {
			base.Shape = dataset.Shape(1 + i%2)
		}
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(factor)<<32|uint64(i)))
		factors[i] = dataset.Vary(base, factor, opts.Variants, res, rng)
		for _, f := range factors[i] {
			sets[i] = append(sets[i], dataset.Render(f, res))
		}
	}
	name := fmt.Sprintf("intervention %s %dpx %d×%d seed %d", factor, res, opts.Bases, len(sets[0]), opts.Seed)
	g, err := p.ensure(ctx, space, enc, name, sets, func(s, j int) *dataset.Factors { return &factors[s][j] })
	if err != nil {
		return nil, err
	}
	return g, nil
}

// orbits returns the orbit group of an augmentation at the encoder's
// resolution, with vectors in space: opts.OrbitSets images from the
// generator, each augmented opts.OrbitSize times.
func (p *probeStore) orbits(ctx context.Context, space *index.Space, enc Encoder, augmentation string, opts Options) (*probeGroup, error) {
	aug, err := dataset.ParseAugmentation(augmentation)
	if err != nil {
		return nil, fmt.Errorf("%w: orbits: %w", ErrOptions, err)
	}
	res := enc.Res()
	spec := dataset.Spec{N: opts.OrbitSets, Seed: opts.Seed ^ orbitSalt, Res: res}
	sets := make([][]*image.RGBA, opts.OrbitSets)
	for i := range sets {
		base := spec.Image(i)
		rng := rand.New(rand.NewPCG(opts.Seed^orbitSalt, uint64(i)))
		for range opts.OrbitSize {
			sets[i] = append(sets[i], aug.Apply(base, rng))
		}
	}
	name := fmt.Sprintf("orbit %s %dpx %d×%d seed %d", aug, res, opts.OrbitSets, opts.OrbitSize, opts.Seed)
	g, err := p.ensure(ctx, space, enc, name, sets, nil)
	if err != nil {
		return nil, err
	}
	g.augmentation = aug.String()
	return g, nil
}

// embedBatch is the number of probe images embedded at once.
const embedBatch = 256

// ensure stores the sets of images as the probe group named name (the
// name with a digest of the pixels, so that a change of the generator
// makes a new group instead of mixing old and new items) and gives them
// vectors in space. factorsOf, if not nil, returns the factors of member j
// of set s.
func (p *probeStore) ensure(ctx context.Context, space *index.Space, enc Encoder, name string, sets [][]*image.RGBA,
	factorsOf func(s, j int) *dataset.Factors) (*probeGroup, error) {
	digest := sha256.New()
	for _, set := range sets {
		for _, img := range set {
			digest.Write(img.Pix)
		}
	}
	name += " #" + hex.EncodeToString(digest.Sum(nil)[:4])

	firstSet, err := p.allocateSets(name, len(sets))
	if err != nil {
		return nil, err
	}
	var items []index.Item
	var images []*image.RGBA
	for s, set := range sets {
		for j, img := range set {
			it := index.Item{
				Source: fmt.Sprintf("probe %q set %d member %d", name, s, j),
				Hash:   probeHash(name, s, j),
				Split:  index.SplitProbe,
				SetID:  firstSet + uint32(s),
				Group:  name,
			}
			if factorsOf != nil {
				f := factorsOf(s, j)
				it.Factors, it.Labels = ingest.FactorMap(*f), ingest.LabelMap(f.Labels(img.Rect.Dx()))
			}
			items = append(items, it)
			images = append(images, img)
		}
	}
	ids, _, err := p.db.AddItems(ctx, items)
	if err != nil {
		return nil, fmt.Errorf("store probe items of %s: %w", name, err)
	}
	// Read the set ids back: items stored by an earlier report keep theirs.
	stored, err := p.db.Items(ids)
	if err != nil {
		return nil, err
	}
	g := &probeGroup{name: name}
	setIndex := map[uint32]int{}
	for _, it := range stored {
		s, ok := setIndex[it.SetID]
		if !ok {
			s = len(g.sets)
			setIndex[it.SetID] = s
			g.sets = append(g.sets, nil)
		}
		g.sets[s] = append(g.sets[s], it.ID)
	}

	missing := map[index.ItemID]bool{}
	for _, id := range space.Missing(ids) {
		missing[id] = true
	}
	var batchIDs []index.ItemID
	var batchImages []*image.RGBA
	flush := func() error {
		if len(batchIDs) == 0 {
			return nil
		}
		vectors, err := enc.Embed(ctx, batchImages)
		if err != nil {
			return fmt.Errorf("embed probes of %s: %w", name, err)
		}
		flat := make([]float32, 0, len(vectors)*space.Dim())
		for _, v := range vectors {
			flat = append(flat, v...)
		}
		if _, err := space.AddVectors(ctx, batchIDs, flat); err != nil {
			return fmt.Errorf("store probe vectors of %s: %w", name, err)
		}
		batchIDs, batchImages = batchIDs[:0], batchImages[:0]
		return nil
	}
	for i, id := range ids {
		if !missing[id] {
			continue
		}
		batchIDs = append(batchIDs, id)
		batchImages = append(batchImages, images[i])
		if len(batchIDs) == embedBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return g, nil
}

// allocateSets returns the first of n consecutive unused set ids, unless
// the group already exists (its items keep their ids and the ones
// returned are ignored).
func (p *probeStore) allocateSets(group string, n int) (uint32, error) {
	if p.nextSet == 0 {
		ids, err := p.db.Select(index.Filter{Splits: []string{index.SplitProbe}, IncludeProbes: true})
		if err != nil {
			return 0, err
		}
		items, err := p.db.Items(ids)
		if err != nil {
			return 0, err
		}
		p.nextSet = 1
		for _, it := range items {
			p.nextSet = max(p.nextSet, it.SetID+1)
		}
	}
	first := p.nextSet
	p.nextSet += uint32(n)
	return first, nil
}

// probeHash identifies member j of set s of a probe group: two groups, or
// two sets, may hold the same picture (an augmentation that crops the
// shape away leaves a black image) and must keep it as separate items.
func probeHash(group string, s, j int) index.Hash {
	h := sha256.New()
	h.Write([]byte("simsearch probe\x00"))
	h.Write([]byte(group))
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], uint64(s))
	binary.LittleEndian.PutUint64(buf[8:], uint64(j))
	h.Write(buf[:])
	var out index.Hash
	h.Sum(out[:0])
	return out
}
