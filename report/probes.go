package report

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"slices"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/spaces"
)

// probeGroup is one experiment of probe items as stored: sets of images
// that an encoder invariant to something would map to one point each.
type probeGroup struct {
	// name is the items' Group in the store.
	name string
	// augmentation is the canonical augmentation of an orbit group.
	augmentation string
	// sets holds the item ids of each set.
	sets [][]index.ItemID
}

// probeImages is a probe group to store: its name (with a digest of the
// pixels, so that a change of the generator makes a new group instead of
// mixing old and new items) and its images.
type probeImages struct {
	name         string
	augmentation string
	sets         [][]*image.RGBA
	// factors[s][j] are the factors of member j of set s; nil for orbits.
	factors [][]dataset.Factors
}

// Salts keep the random streams of probes apart from the dataset's own
// items of the same seed.
const (
	interventionSalt = 0x1e7e5e7
	orbitSalt        = 0x0eb175
)

// interventionImages returns the intervention group of factor at
// resolution res: opts.Bases base items from the generator, each varied in
// factor alone (rotation varies squares and triangles only: a rotated
// circle is the same image).
func interventionImages(factor dataset.Factor, res int, opts Options) probeImages {
	spec := dataset.Spec{N: opts.Bases, Seed: opts.Seed ^ interventionSalt, Res: res}
	p := probeImages{sets: make([][]*image.RGBA, opts.Bases), factors: make([][]dataset.Factors, opts.Bases)}
	for i := range p.sets {
		base := spec.Factors(i)
		if factor == dataset.FactorRotation && base.Shape == dataset.Circle {
			base.Shape = dataset.Shape(1 + i%2)
		}
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(factor)<<32|uint64(i)))
		p.factors[i] = dataset.Vary(base, factor, opts.Variants, res, rng)
		for _, f := range p.factors[i] {
			p.sets[i] = append(p.sets[i], dataset.Render(f, res))
		}
	}
	p.name = digestName(fmt.Sprintf("intervention %s %dpx %d×%d seed %d", factor, res, opts.Bases, len(p.sets[0]), opts.Seed), p.sets)
	return p
}

// orbitImages returns the orbit group of an augmentation at resolution
// res: opts.OrbitSets images from the generator, each augmented
// opts.OrbitSize times.
func orbitImages(augmentation string, res int, opts Options) (probeImages, error) {
	aug, err := dataset.ParseAugmentation(augmentation)
	if err != nil {
		return probeImages{}, fmt.Errorf("%w: orbits: %w", ErrOptions, err)
	}
	spec := dataset.Spec{N: opts.OrbitSets, Seed: opts.Seed ^ orbitSalt, Res: res}
	p := probeImages{augmentation: aug.String(), sets: make([][]*image.RGBA, opts.OrbitSets)}
	for i := range p.sets {
		base := spec.Image(i)
		rng := rand.New(rand.NewPCG(opts.Seed^orbitSalt, uint64(i)))
		for range opts.OrbitSize {
			p.sets[i] = append(p.sets[i], aug.Apply(base, rng))
		}
	}
	p.name = digestName(fmt.Sprintf("orbit %s %dpx %d×%d seed %d", aug, res, opts.OrbitSets, opts.OrbitSize, opts.Seed), p.sets)
	return p, nil
}

// digestName appends to name a digest of the pixels of sets.
func digestName(name string, sets [][]*image.RGBA) string {
	digest := sha256.New()
	for _, set := range sets {
		for _, img := range set {
			digest.Write(img.Pix)
		}
	}
	return name + " #" + hex.EncodeToString(digest.Sum(nil)[:4])
}

// probeWriter stores probe groups, so that every space of one resolution
// shares the same probe items and a second report reuses them.
type probeWriter struct {
	st index.Store
	// nextSet is the next unused set id, 0 until first needed.
	nextSet uint32
}

// embedBatch is the number of probe images embedded at once.
const embedBatch = 256

// store stores the group p (its items, unless an earlier report did) and
// gives its items vectors in space, embedded with enc.
func (w *probeWriter) store(ctx context.Context, space index.SpaceStore, enc encoder.Encoder, p probeImages) error {
	firstSet, err := w.allocateSets(len(p.sets))
	if err != nil {
		return err
	}
	var items []index.Item
	var images []*image.RGBA
	for s, set := range p.sets {
		for j, img := range set {
			it := index.Item{
				Source: fmt.Sprintf("probe %q set %d member %d", p.name, s, j),
				Hash:   probeHash(p.name, s, j),
				Split:  index.SplitProbe,
				SetID:  firstSet + uint32(s),
				Group:  p.name,
			}
			if p.factors != nil {
				f := p.factors[s][j]
				it.Factors, it.Labels = spaces.FactorMap(f), spaces.LabelMap(f.Labels(img.Rect.Dx()))
			}
			items = append(items, it)
			images = append(images, img)
		}
	}
	ids, _, err := w.st.AddItems(ctx, items)
	if err != nil {
		return fmt.Errorf("store probe items of %s: %w", p.name, err)
	}
	// The group's vectors are stored in one transaction: a group is
	// whole in a space or absent, so the members missing from a stored
	// group are those the encoder cannot place (a zero vector).
	todoIDs := space.Missing(ids)
	if len(todoIDs) == 0 {
		return nil
	}
	position := make(map[index.ItemID]int, len(ids))
	for i, id := range ids {
		position[id] = i
	}
	todoImages := make([]*image.RGBA, len(todoIDs))
	for k, id := range todoIDs {
		todoImages[k] = images[position[id]]
	}
	var keptIDs []index.ItemID
	var flat []float32
	for start := 0; start < len(todoIDs); start += embedBatch {
		end := min(start+embedBatch, len(todoIDs))
		vectors, err := enc.Embed(ctx, todoImages[start:end])
		if err != nil {
			return fmt.Errorf("embed probes of %s: %w", p.name, err)
		}
		for k, v := range vectors {
			if err := spaces.CheckVector(v); errors.Is(err, spaces.ErrZeroVector) {
				continue
			} else if err != nil {
				return fmt.Errorf("embed probes of %s: %w", p.name, err)
			}
			keptIDs = append(keptIDs, todoIDs[start+k])
			flat = append(flat, v...)
		}
	}
	switch {
	case len(keptIDs) == 0 && len(todoIDs) == len(ids):
		return fmt.Errorf("%w: the encoder maps every image of %s to a zero vector", ErrNoProbes, p.name)
	case len(keptIDs) == 0:
		return nil // only members the encoder cannot place were missing
	}
	if _, err := space.AddVectors(ctx, keptIDs, flat); err != nil {
		return fmt.Errorf("store probe vectors of %s: %w", p.name, err)
	}
	return nil
}

// allocateSets returns the first of n consecutive unused set ids. Items
// of a group stored by an earlier report keep theirs (AddItems keeps a
// stored item as it is) and the ones returned go unused.
func (w *probeWriter) allocateSets(n int) (uint32, error) {
	if w.nextSet == 0 {
		ids, err := w.st.Select(index.Filter{Splits: []string{index.SplitProbe}, IncludeProbes: true})
		if err != nil {
			return 0, err
		}
		items, err := w.st.Items(ids)
		if err != nil {
			return 0, err
		}
		w.nextSet = 1
		for _, it := range items {
			w.nextSet = max(w.nextSet, it.SetID+1)
		}
	}
	first := w.nextSet
	w.nextSet += uint32(n)
	return first, nil
}

// findGroup returns the stored probe group named name, with the members
// that have a vector in space (a group is stored whole or not at all: the
// others are those the encoder maps to a zero vector); an error wrapping
// ErrNoProbes when the group is not stored for space.
func findGroup(st index.Store, space index.SpaceStore, name string) (*probeGroup, error) {
	all, err := st.Select(index.Filter{Group: name, IncludeProbes: true})
	if err != nil {
		return nil, err
	}
	ids := slices.DeleteFunc(all, func(id index.ItemID) bool { return !space.Has(id) })
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: %s is not stored for space %s in %s", ErrNoProbes, name, space.Name(), st.Path())
	}
	items, err := st.Items(ids)
	if err != nil {
		return nil, err
	}
	g := &probeGroup{name: name}
	setIndex := map[uint32]int{}
	for _, it := range items {
		s, ok := setIndex[it.SetID]
		if !ok {
			s = len(g.sets)
			setIndex[it.SetID] = s
			g.sets = append(g.sets, nil)
		}
		g.sets[s] = append(g.sets[s], it.ID)
	}
	return g, nil
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
