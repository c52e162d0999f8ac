// Package cli builds the simsearch command-line application on
// github.com/urfave/cli/v2.
//
// Each command lives in its own file as newXCommand, which turns flags into a
// plain options struct and calls a function of a domain package (dataset,
// encoder, index, ingest, report) with the context, the options and the
// writers. This package holds no domain logic: it parses, formats output
// (text, or JSON messages with a "type" field when --json is given), draws
// progress on stderr and maps errors to exit codes.
//
// # Output
//
// Results go to stdout, progress and logs to stderr. With --json every result
// is one JSON object per line on stdout, so scripts can parse it while a human
// still sees progress on the terminal.
//
// # Exit codes
//
// See ExitCode and the EXIT CODES section of "simsearch --help".
package cli
