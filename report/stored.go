package report

import (
	"bytes"
	"fmt"
	"image"
	_ "image/png" // thumbnails
	"math/rand/v2"
	"os"
	"slices"

	"simsearch/dataset"
	"simsearch/index"
	"simsearch/spaces"
)

// storedOrbitImages returns the orbit group of an augmentation for a
// space whose items are not colored shapes: opts.OrbitSets images drawn
// at random (opts.Seed) from the space's validation items (its training
// items when it has none), each augmented opts.OrbitSize times at
// resolution res. An image is the item's thumbnail when that is the
// whole image (its content hash is the item's: images of at most
// spaces.ThumbnailSize pixels a side), else its source file re-read when
// it still has the item's pixels, else the thumbnail (the centred square
// at spaces.ThumbnailSize pixels). Items with neither are passed over.
// The group is empty when fewer than two images are found.
func storedOrbitImages(st index.Store, space index.SpaceStore, items *itemLabels, augmentation string, res int, opts Options) (probeImages, error) {
	aug, err := dataset.ParseAugmentation(augmentation)
	if err != nil {
		return probeImages{}, fmt.Errorf("%w: orbits: %w", ErrOptions, err)
	}
	pool := slices.DeleteFunc(slices.Clone(items.val), func(id index.ItemID) bool { return !space.Has(id) })
	if len(pool) == 0 {
		pool = slices.DeleteFunc(slices.Clone(items.train), func(id index.ItemID) bool { return !space.Has(id) })
	}
	rng := rand.New(rand.NewPCG(opts.Seed^orbitSalt, 0x5708ed))
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	p := probeImages{augmentation: aug.String()}
	for _, id := range pool {
		if len(p.sets) == opts.OrbitSets {
			break
		}
		img, err := storedImage(st, id)
		if err != nil {
			return probeImages{}, err
		}
		if img == nil {
			continue
		}
		base := spaces.AtResolution(img, res)
		setRng := rand.New(rand.NewPCG(opts.Seed^orbitSalt, uint64(id)))
		var set []*image.RGBA
		for range opts.OrbitSize {
			set = append(set, aug.Apply(base, setRng))
		}
		p.sets = append(p.sets, set)
	}
	if len(p.sets) < 2 {
		return probeImages{augmentation: p.augmentation}, nil
	}
	p.name = digestName(fmt.Sprintf("orbit %s %dpx %d×%d seed %d of stored items", aug, res, len(p.sets), opts.OrbitSize, opts.Seed), p.sets)
	return p, nil
}

// storedImages returns up to max items of pool (drawn with seed and salt
// when there are more, then in id order) whose stored images can be read
// back, with those images at res pixels.
func storedImages(st index.Store, pool []index.ItemID, max int, seed, salt uint64, res int) ([]index.ItemID, []*image.RGBA, error) {
	if len(pool) > max {
		pool = slices.Clone(pool)
		rng := rand.New(rand.NewPCG(seed, salt))
		rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		pool = pool[:max]
		slices.Sort(pool)
	}
	var ids []index.ItemID
	var images []*image.RGBA
	for _, id := range pool {
		img, err := storedImage(st, id)
		if err != nil {
			return nil, nil, err
		}
		if img != nil {
			ids = append(ids, id)
			images = append(images, spaces.AtResolution(img, res))
		}
	}
	return ids, images, nil
}

// storedImage returns the image of a stored item (see storedOrbitImages),
// or nil when neither its thumbnail nor its source can be read.
func storedImage(st index.Store, id index.ItemID) (image.Image, error) {
	it, err := st.Item(id)
	if err != nil {
		return nil, err
	}
	thumbBytes, err := st.Thumbnail(id)
	if err != nil {
		return nil, err
	}
	var thumb image.Image
	if len(thumbBytes) > 0 {
		if m, _, err := image.Decode(bytes.NewReader(thumbBytes)); err == nil {
			thumb = m
			if spaces.ContentHash(m) == it.Hash {
				return m, nil
			}
		}
	}
	if f, err := os.Open(it.Source); err == nil {
		m, err := dataset.DecodeImage(f, 0)
		f.Close()
		if err == nil && spaces.ContentHash(m) == it.Hash {
			return m, nil
		}
	}
	return thumb, nil
}
