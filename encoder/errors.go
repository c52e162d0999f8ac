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

	// ErrCommand is returned when an encoder command fails: it cannot be
	// started, exits, does not answer in time, or answers with something
	// other than the vectors of the images it was sent.
	ErrCommand = errors.New("encoder command failed")

	// ErrCommandChanged is returned when an encoder command no longer gives
	// the vectors of the encoder a space was built with (its fingerprint
	// moved).
	ErrCommandChanged = errors.New("the encoder behind this command is not the one this space was built with")

	// ErrNoEncoder is returned when images must be embedded for a space
	// that holds precomputed vectors: it has no encoder.
	ErrNoEncoder = errors.New("the space has no encoder")

	// ErrOptions is returned for training or baseline options out of their
	// range, or that contradict each other or the data.
	ErrOptions = errors.New("bad encoder options")
)

// Errors of training states (see TrainToFiles).
var (
	// ErrBadState is returned for a training state file that is damaged,
	// cut short, or of another format version.
	ErrBadState = errors.New("bad training state")

	// ErrStateMismatch is returned when the training state beside a
	// checkpoint was made by a training with other settings or data.
	ErrStateMismatch = errors.New("the training state belongs to another training")
)
