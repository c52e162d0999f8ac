package spaces

import "errors"

// Sentinel errors of the spaces package. Functions wrap them with
// context; test for them with errors.Is.
var (
	// ErrChooseSpace is returned by Open without a name when the store
	// holds several spaces.
	ErrChooseSpace = errors.New("several spaces: name one")

	// ErrNoMatch is returned when a filter, or a sample's pool, leaves no
	// item of the space to find.
	ErrNoMatch = errors.New("no item matches")

	// ErrNoImageFile is returned for a query image path that does not name
	// a file: it does not exist, or it is a folder.
	ErrNoImageFile = errors.New("no image file")

	// ErrZeroVector is returned for an image the encoder maps to a zero
	// vector: it has no direction, so it cannot be placed in a cosine
	// space (an all-black image under the pixels baseline, for one).
	ErrZeroVector = errors.New("the encoder maps the image to a zero vector, which cannot be normalized")
)
