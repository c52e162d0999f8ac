package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/experiment"
	"simsearch/export"
	"simsearch/index"
	"simsearch/ingest"
	"simsearch/report"
	"simsearch/spaces"
)

// Exit codes of the simsearch command, listed in "simsearch --help".
const (
	ExitOK          = 0   // success
	ExitFailure     = 1   // the command failed (an I/O error, a failed training run, ...)
	ExitUsage       = 2   // bad flags or arguments
	ExitBadInput    = 3   // an input file is corrupt, foreign or of another version
	ExitInUse       = 4   // the database file is locked by another process
	ExitInterrupted = 130 // interrupted by Ctrl-C or SIGTERM; finished work is kept
)

const exitCodesHelp = `EXIT CODES:
   0    success
   1    the command failed
   2    bad flags or arguments
   3    an input file is corrupt, foreign or of another version
   4    the database file is in use by another process
   130  interrupted (Ctrl-C); work already committed is kept`

// usageError marks an error the user made on the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns an error that exits with ExitUsage.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCoded is implemented by errors that choose their own exit code.
type exitCoded interface{ ExitCode() int }

// badInputError marks an error caused by the content of an input file.
type badInputError struct{ err error }

func (e badInputError) Error() string { return e.err.Error() }
func (e badInputError) Unwrap() error { return e.err }
func (e badInputError) ExitCode() int { return ExitBadInput }

// exitCodes maps the domain packages' sentinel errors to exit codes other
// than ExitFailure. The first match wins.
var exitCodes = []struct {
	err  error
	code int
}{
	{index.ErrInUse, ExitInUse},
	{index.ErrNotIndex, ExitBadInput},
	{index.ErrVersion, ExitBadInput},
	{index.ErrCorrupt, ExitBadInput},
	{index.ErrEncoderMismatch, ExitBadInput},
	{index.ErrNoSpace, ExitUsage},
	{index.ErrNoItem, ExitUsage},
	{dataset.ErrBadImage, ExitBadInput},
	{dataset.ErrImageTooLarge, ExitBadInput},
	{dataset.ErrBadFolder, ExitBadInput},
	{dataset.ErrBadSpec, ExitUsage},
	{dataset.ErrBadAugmentation, ExitUsage},
	{dataset.ErrNotEmpty, ExitUsage},
	{encoder.ErrBadCheckpoint, ExitBadInput},
	{encoder.ErrArchitecture, ExitBadInput},
	// Encoders from outside (issue 13): a changed command and bad vectors
	// are bad input, images for a space without an encoder a usage error.
	{encoder.ErrCommandChanged, ExitBadInput},
	{encoder.ErrNoEncoder, ExitUsage},
	{ingest.ErrBadVectors, ExitBadInput},
	{report.ErrOptions, ExitUsage},
	{encoder.ErrOptions, ExitUsage},
	{encoder.ErrBadState, ExitBadInput},
	{encoder.ErrStateMismatch, ExitUsage},
	{ingest.ErrBadSource, ExitUsage},
	{ingest.ErrOptions, ExitUsage},
	{ingest.ErrSourceChanged, ExitBadInput},
	{ingest.ErrStrict, ExitBadInput},
	{ingest.ErrBadLabels, ExitBadInput}, // labels files and npz datasets (issue 12)
	{ingest.ErrBadNpz, ExitBadInput},
	{spaces.ErrZeroVector, ExitBadInput},
	{spaces.ErrNoImageFile, ExitUsage},
	{spaces.ErrChooseSpace, ExitUsage},
	{spaces.ErrNoMatch, ExitUsage},
	{experiment.ErrFolder, ExitUsage},
	{export.ErrOptions, ExitUsage},
	{export.ErrNothing, ExitUsage},
}

// ExitCode maps an error returned by the application to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var usage usageError
	if errors.As(err, &usage) {
		return ExitUsage
	}
	var coded exitCoded
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	for _, e := range exitCodes {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return ExitFailure
}

// ReportError writes err to w as one line (unless it is nil) and returns the
// exit code for it.
func ReportError(w io.Writer, err error) int {
	code := ExitCode(err)
	switch {
	case err == nil:
	case code == ExitInterrupted:
		fmt.Fprintln(w, "simsearch: interrupted; work already committed is kept")
	default:
		fmt.Fprintf(w, "simsearch: %v\n", err)
		if code == ExitUsage {
			fmt.Fprintln(w, "Run with --help for usage.")
		}
	}
	return code
}
