package index

import "cmp"

// GraphConfig holds a space's HNSW parameters. Zero fields take the
// defaults of DefaultGraphConfig. It is a plain value.
type GraphConfig struct {
	// M is the number of links per node and layer (2·M on the bottom
	// layer). Default 16.
	M int `json:"m"`
	// EfConstruction is the search breadth when inserting. Default 200.
	EfConstruction int `json:"ef_construction"`
	// EfSearch is the search breadth of queries that do not give one.
	// Default 96: recall@10 ≥ 0.95 up to 1,000,000 vectors of 128
	// dimensions (64 gives 0.99 at 100,000 but 0.94 at 1,000,000).
	EfSearch int `json:"ef_search"`
	// Seed decides node levels (see hnsw.Graph.Seed). Default 0.
	Seed uint64 `json:"seed"`
}

// DefaultGraphConfig returns M 16, EfConstruction 200, EfSearch 96, Seed 0.
func DefaultGraphConfig() GraphConfig {
	return GraphConfig{M: 16, EfConstruction: 200, EfSearch: 96}
}

func (c GraphConfig) withDefaults() GraphConfig {
	d := DefaultGraphConfig()
	c.M = cmp.Or(c.M, d.M)
	c.EfConstruction = cmp.Or(c.EfConstruction, d.EfConstruction)
	c.EfSearch = cmp.Or(c.EfSearch, d.EfSearch)
	return c
}

// Encoder is the encoder of a space, stored with it so that the space can
// embed new queries by itself. The index does not interpret it: the
// encoder package decodes Checkpoint. It is a plain value; CreateSpace
// copies the checkpoint into the file and Space.Encoder returns a new copy.
type Encoder struct {
	// ID identifies the encoder, such as the SHA-256 of its checkpoint in
	// hexadecimal. Vectors of a space all come from the encoder with this
	// ID (see Space.CheckEncoder). Required.
	ID string `json:"id"`
	// Description is a human label ("contrastive, augmentation A, 64 px").
	Description string `json:"description,omitempty"`
	// Resolution is the image side length the encoder expects, in pixels.
	Resolution int `json:"resolution,omitempty"`
	// Checkpoint is the encoder's checkpoint file, stored as it is.
	Checkpoint []byte `json:"-"`
}

// SpaceConfig describes a space to CreateSpace: a plain value, read once.
type SpaceConfig struct {
	// Name names the space: 1 to 64 printable characters.
	Name string
	// Dim is the dimension of its vectors, 1 to 65536.
	Dim int
	// Metric is the graph's distance; zero means Cosine.
	Metric Metric
	// Graph holds the HNSW parameters; zero fields take defaults.
	Graph GraphConfig
	// Encoder is the encoder the vectors come from.
	Encoder Encoder
	// Storage is how the graph keeps the vectors in memory; zero means
	// the database's Options.Storage. The file holds them in full
	// precision either way.
	Storage Storage
}

const (
	maxSpaceName  = 64
	maxDim        = 1 << 16
	maxEncoderLen = 1 << 32
)
