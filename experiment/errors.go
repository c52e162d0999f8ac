package experiment

import "errors"

// Sentinel errors of the experiment package. Functions wrap them with
// context; test for them with errors.Is.
var (
	// ErrFolder is returned for an experiment folder that holds something
	// else: other files, or an experiment of another size or seed.
	ErrFolder = errors.New("the folder holds something else")
)
