package index

import (
	"fmt"
	"os"

	"simsearch/index/hnsw"
)

// Info describes a database file, for `simsearch info`. Info, SpaceInfo,
// EncoderInfo and GraphState are plain values: snapshots owned by the
// caller.
type Info struct {
	Path          string         `json:"path"`
	FileSize      int64          `json:"file_size"`
	FormatVersion int            `json:"format_version"`
	Items         int            `json:"items"`
	Splits        map[string]int `json:"splits"`
	ProbeItems    int            `json:"probe_items"`
	Spaces        []SpaceInfo    `json:"spaces"`
}

// SpaceInfo describes a space.
type SpaceInfo struct {
	Name    string      `json:"name"`
	Dim     int         `json:"dim"`
	Metric  Metric      `json:"metric"`
	Graph   GraphConfig `json:"graph"`
	Encoder EncoderInfo `json:"encoder"`
	Vectors int         `json:"vectors"`
	// Storage is how the graph keeps the vectors in memory (the file holds
	// them in full precision either way).
	Storage Storage `json:"storage"`
	// Memory is what the loaded graph holds in memory.
	Memory MemoryState `json:"memory"`
	// Stored describes the graph stored in the file.
	Stored GraphState `json:"stored_graph"`
}

// MemoryState describes a space's graph in memory.
type MemoryState struct {
	// Loaded reports whether the graph is in memory.
	Loaded bool `json:"loaded"`
	// Bytes is what the loaded graph holds (vectors or codes, links); when
	// not loaded, an estimate of what loading would take.
	Bytes int64 `json:"bytes"`
}

// String describes the state in words.
func (m MemoryState) String() string {
	if m.Loaded {
		return FormatBytes(m.Bytes) + " in memory"
	}
	return "about " + FormatBytes(m.Bytes) + " in memory once loaded"
}

// EncoderInfo describes a space's encoder without its checkpoint.
type EncoderInfo struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Resolution  int    `json:"resolution,omitempty"`
	// Bytes is the size of the stored checkpoint.
	Bytes int64 `json:"bytes"`
}

// GraphState describes the graph stored for a space: a cache of its
// vectors that may lag behind them (after a crash, or vectors added while
// the graph was not loaded); loading the space inserts what it lacks.
type GraphState struct {
	// Nodes is the number of vectors the stored graph covers; 0 when none
	// is stored.
	Nodes int `json:"nodes"`
	// Bytes is the stored graph's size.
	Bytes int64 `json:"bytes"`
	// UpToDate reports whether it covers every vector of the space.
	UpToDate bool `json:"up_to_date"`
}

// String describes the state in words.
func (g GraphState) String() string {
	switch {
	case g.UpToDate:
		return fmt.Sprintf("stored, up to date (%s)", FormatBytes(g.Bytes))
	case g.Nodes == 0 && g.Bytes == 0:
		return "not stored (built on first use)"
	}
	return fmt.Sprintf("stored for %d vectors (%s); the rest are inserted on first use", g.Nodes, FormatBytes(g.Bytes))
}

// FormatBytes formats a size in bytes with a binary unit: "1.5 MiB".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Info describes the space.
func (s *Space) Info() SpaceInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rec
	mem := MemoryState{Loaded: s.graph != nil}
	if s.graph != nil {
		mem.Bytes = s.graph.MemoryBytes()
	} else {
		mem.Bytes = hnsw.EstimateMemoryBytes(len(s.nodeItem), r.dim, r.graph.M, r.storage.quantized())
	}
	return SpaceInfo{
		Name: s.name, Dim: r.dim, Metric: r.metric, Graph: r.graph,
		Encoder: EncoderInfo{ID: r.encoderID, Description: r.description, Resolution: r.resolution, Bytes: r.encoderSize},
		Vectors: len(s.nodeItem), Storage: r.storage, Memory: mem,
		Stored: GraphState{Nodes: s.saved, Bytes: s.savedBytes, UpToDate: s.saved == len(s.nodeItem) && (s.saved > 0 || len(s.nodeItem) == 0)},
	}
}

// Info describes the database: its items, by split, and its spaces. It
// does not load any graph.
func (db *DB) Info() (Info, error) {
	if err := db.checkOpen(); err != nil {
		return Info{}, err
	}
	st, err := os.Stat(db.path)
	if err != nil {
		return Info{}, err
	}
	c := db.counts.Load()
	info := Info{
		Path: db.path, FileSize: st.Size(), FormatVersion: FormatVersion,
		Items: c.items, Splits: db.SplitCounts(), ProbeItems: c.probes,
		Spaces: []SpaceInfo{},
	}
	names, err := db.SpaceNames()
	if err != nil {
		return Info{}, err
	}
	for _, name := range names {
		s, err := db.Space(name)
		if err != nil {
			return Info{}, err
		}
		info.Spaces = append(info.Spaces, s.Info())
	}
	return info, nil
}
