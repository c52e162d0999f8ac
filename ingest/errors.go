package ingest

import "errors"

// Sentinel errors of the ingest package. Functions wrap them with context;
// test for them with errors.Is.
var (
	// ErrBadSource is returned for a source that is neither an image file,
	// a folder nor a generator spec, or that holds no image.
	ErrBadSource = errors.New("bad ingest source")

	// ErrOptions is returned for options that cannot work together, such as
	// a space that does not exist yet without an encoder to create it.
	ErrOptions = errors.New("bad ingest options")

	// ErrSourceChanged is returned (or reported as the reason of a skip)
	// when an item's stored source no longer holds the image it was
	// ingested from.
	ErrSourceChanged = errors.New("image changed since it was ingested")

	// ErrBadVectors is returned for a precomputed-vectors file or items
	// CSV that cannot be read, or that do not agree with each other.
	ErrBadVectors = errors.New("bad precomputed vectors")

	// ErrStrict is wrapped, beside the image's own reason, by the error
	// that stops a Strict run at an image that cannot be ingested.
	ErrStrict = errors.New("stopped at an image that cannot be ingested")

	// ErrBadLabels is returned for a labels file that cannot be used: no
	// file column, rows that disagree about one image, a categorical
	// column with too many values. The message names the line.
	ErrBadLabels = errors.New("bad labels file")

	// ErrBadNpz is returned for an .npz file that is not a factorial
	// dataset in the dSprites layout: no imgs array, arrays of different
	// lengths, images that are not N×H×W uint8.
	ErrBadNpz = errors.New("bad npz dataset")
)
