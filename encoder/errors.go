package encoder

import "errors"

// Sentinel errors of the encoder package. Functions wrap them with context;
// test for them with errors.Is.
var (
	// ErrBadCheckpoint is returned for a file that is not a simsearch
	// checkpoint, is truncated, or has another format version.
	ErrBadCheckpoint = errors.New("bad checkpoint")

	// ErrArchitecture is returned when weights do not fit the architecture
	// they are loaded into (another resolution, width or latent size).
	ErrArchitecture = errors.New("checkpoint is for another architecture")

	// ErrNonFiniteLoss is returned when training produces a NaN or infinite
	// loss.
	ErrNonFiniteLoss = errors.New("loss is not finite")

	// ErrOptions is returned for training or baseline options out of their
	// range, or that contradict each other or the data.
	ErrOptions = errors.New("bad encoder options")
)
