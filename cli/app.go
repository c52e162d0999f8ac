package cli

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"simsearch/encoder"
)

// Version is the simsearch version printed by --version.
const Version = "0.1.0-dev"

// New builds the simsearch application. Its Writer and ErrWriter default to
// os.Stdout and os.Stderr; tests replace them with buffers.
func New() *cli.App {
	app := &cli.App{
		Name:    "simsearch",
		Usage:   "find out what an image encoder learned to ignore, and what it kept",
		Version: Version,
		Description: `simsearch generates image datasets whose factors of variation are known
(shape, colour, location, size, rotation), trains image encoders on them,
stores their embeddings in an HNSW index kept in one file, answers
similarity queries, and reports which factors each encoder is invariant or
sensitive to.

Start with "simsearch demo": it runs the whole chain on a small default.

Results go to stdout (text, or JSON lines with --json); progress and logs go
to stderr.

` + exitCodesHelp,
		Flags:                outputFlags(),
		Writer:               os.Stdout,
		ErrWriter:            os.Stderr,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			newDemoCommand(),
			newGenerateCommand(),
			newAugmentCommand(),
			newTrainCommand(),
			newImportCommand(), // issue 13: PyTorch weights of the seed's network
			newIngestCommand(),
			newQueryCommand(),
			newReportCommand(),
			newExportCommand(),
			newInfoCommand(),
			newCheckCommand(),
		},
		Action: runNoCommand,
		Before: warnAboutEnvironment,
		// Errors are reported once, by ReportError, never by the library.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
	}
	for _, cmd := range app.Commands {
		cmd.Flags = append(cmd.Flags, outputFlags()...)
		cmd.OnUsageError = onUsageError
	}
	return app
}

// outputFlags are accepted before or after any command name.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "json", Usage: "write results to stdout as JSON lines, each with a \"type\" field"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "show no progress on stderr"},
	}
}

// warnAboutEnvironment says on stderr which tuning variables of the
// environment have values this build ignores.
func warnAboutEnvironment(c *cli.Context) error {
	for _, w := range encoder.EnvironmentWarnings() {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	return nil
}

func onUsageError(_ *cli.Context, err error, _ bool) error {
	return usageError{err}
}

// runNoCommand runs when no command matched: help without arguments, a
// usage error with a suggestion for a mistyped command.
func runNoCommand(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.ShowAppHelp(c)
	}
	name := c.Args().First()
	suggestion := ""
	if cli.SuggestCommand != nil {
		suggestion = " " + cli.SuggestCommand(c.App.Commands, name)
	}
	return usagef("%q is not a simsearch command.%s", name, suggestion)
}
