package index

import "fmt"

// Storage is how a space keeps its vectors for the graph. The file always
// holds the vectors in full precision; Int8 keeps a quarter of the memory
// for the graph's copy and re-ranks each search's candidates with the
// stored vectors.
type Storage uint8

const (
	// DefaultStorage, the zero Storage, in a SpaceConfig means the
	// database's Options.Storage, and that one's zero means Float32. An
	// existing space keeps its storage.
	DefaultStorage Storage = 0
	// Float32 keeps the vectors as they are stored, four bytes a value.
	Float32 Storage = 1
	// Int8 keeps one byte a value: int8 scalar quantization with a range
	// per dimension fitted to the vectors the graph is built from (values
	// added later outside it are clamped). The graph is built and searched
	// on these; a search's ef candidates are then ordered by their
	// distances to the stored float32 vectors.
	Int8 Storage = 2
)

// String returns "float32" or "int8".
func (st Storage) String() string {
	switch st {
	case DefaultStorage:
		return "default"
	case Float32:
		return "float32"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("storage(%d)", uint8(st))
}

// MarshalText writes the storage's name, for JSON.
func (st Storage) MarshalText() ([]byte, error) { return []byte(st.String()), nil }

// UnmarshalText reads a storage's name, for JSON.
func (st *Storage) UnmarshalText(b []byte) error {
	v, err := ParseStorage(string(b))
	if err != nil {
		return err
	}
	*st = v
	return nil
}

// ParseStorage returns the storage named s: "float32" (or "none"),
// "int8", or DefaultStorage for "" or "default".
func ParseStorage(s string) (Storage, error) {
	switch s {
	case "", "default":
		return DefaultStorage, nil
	case "none", "float32":
		return Float32, nil
	case "int8":
		return Int8, nil
	}
	return 0, fmt.Errorf("%w: storage %q: want float32 or int8", ErrInvalid, s)
}

// quantized reports whether the graph keeps codes instead of the vectors.
func (st Storage) quantized() bool { return st == Int8 }
