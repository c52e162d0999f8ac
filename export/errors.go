package export

import "errors"

// Sentinel errors of the export package. Functions wrap them with
// context; test for them with errors.Is.
var (
	// ErrOptions is returned for options that cannot work: no space, no
	// output file, an unknown format.
	ErrOptions = errors.New("bad export options")

	// ErrNothing is returned when no vector of the space matches the
	// filter.
	ErrNothing = errors.New("nothing to export")
)
