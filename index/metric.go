package index

import (
	"fmt"

	"simsearch/index/hnsw"
)

// Metric is the distance a space's graph orders neighbours by. Searches
// always report Euclidean distances (the SPEC's diameters and margins are
// Euclidean); for Cosine the vectors are normalized when stored and
// queried, and ‖u − v‖ = sqrt(2(1 − u·v)).
type Metric uint8

const (
	// Cosine normalizes vectors to unit length and orders by 1 − u·v. It
	// is the default (the zero Metric in a SpaceConfig means Cosine).
	Cosine Metric = 1
	// Euclidean keeps vectors as they are and orders by ‖u − v‖.
	Euclidean Metric = 2
)

// String returns "cosine" or "euclidean".
func (m Metric) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case Euclidean:
		return "euclidean"
	}
	return fmt.Sprintf("metric(%d)", uint8(m))
}

// MarshalText writes the metric's name, for JSON.
func (m Metric) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads a metric's name, for JSON.
func (m *Metric) UnmarshalText(b []byte) error {
	v, err := ParseMetric(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseMetric returns the metric named s ("cosine" or "euclidean").
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "cosine":
		return Cosine, nil
	case "euclidean":
		return Euclidean, nil
	}
	return 0, fmt.Errorf("%w: metric %q: want cosine or euclidean", ErrInvalid, s)
}

func (m Metric) hnsw() hnsw.Metric {
	if m == Euclidean {
		return hnsw.Euclidean
	}
	return hnsw.Cosine
}
