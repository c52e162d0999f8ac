package report

import "errors"

// Sentinel errors of the report package. Functions wrap them with context;
// test for them with errors.Is.
var (
	// ErrOptions is returned for options that cannot make a report: too
	// few sets, inconsistent thresholds, a database without spaces.
	ErrOptions = errors.New("bad report options")

	// ErrNoProbes is returned by Run when the probe items a measurement
	// needs are not stored with vectors for the space: Prepare with the
	// same options stores them.
	ErrNoProbes = errors.New("probe images not prepared")
)
