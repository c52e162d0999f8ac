package dataset

import "errors"

// Sentinel errors of the dataset package. Functions wrap them with context;
// test for them with errors.Is.
var (
	// ErrBadSpec is returned for a generator spec that cannot be parsed,
	// such as "shapes:n=-1".
	ErrBadSpec = errors.New("bad dataset spec")

	// ErrBadAugmentation is returned for an augmentation name or primitive
	// string that cannot be parsed, or a parameter out of its range.
	ErrBadAugmentation = errors.New("bad augmentation")

	// ErrBadImage is returned for a file that is not a decodable image.
	ErrBadImage = errors.New("not a readable image")

	// ErrImageTooLarge is returned, before decoding, for an image whose header
	// declares more pixels than allowed (a decompression bomb).
	ErrImageTooLarge = errors.New("image too large")

	// ErrBadFolder is returned for a dataset folder whose factors.csv is
	// missing or malformed.
	ErrBadFolder = errors.New("bad dataset folder")

	// ErrNotEmpty is returned when asked to write a dataset into a folder
	// that already holds files, without permission to overwrite.
	ErrNotEmpty = errors.New("output folder is not empty")
)
