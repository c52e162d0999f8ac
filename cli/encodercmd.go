package cli

import (
	"github.com/urfave/cli/v2"

	"simsearch/encoder"
	"simsearch/index"
	"simsearch/spaces"
)

// encoderCommandFlag is --encoder-cmd: for ingest, the encoder of a new
// space; for query and report, a command line that replaces the stored
// one.
func encoderCommandFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "encoder-cmd", Usage: usage}
}

// encoderTimeoutFlag is --encoder-timeout.
func encoderTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "encoder-timeout", Value: encoder.DefaultCommandTimeout,
		Usage: "longest time an encoder command may take to answer one batch (the first includes its start); a command that takes longer is stopped"}
}

// commandOptions returns the options of an encoder command from the
// flags: its stderr goes to the command's stderr.
func commandOptions(c *cli.Context, o *output) (encoder.CommandOptions, error) {
	if c.Duration("encoder-timeout") < 0 {
		return encoder.CommandOptions{}, usagef("--encoder-timeout must not be negative, not %v", c.Duration("encoder-timeout"))
	}
	return encoder.CommandOptions{Command: c.String("encoder-cmd"), Res: c.Int("res"), Timeout: c.Duration("encoder-timeout"), Stderr: o.stderr}, nil
}

// storedEncoderOptions returns how query and report run a space's stored
// encoder command.
func storedEncoderOptions(c *cli.Context, o *output) (spaces.EncoderOptions, error) {
	co, err := commandOptions(c, o)
	co.Res = 0
	return spaces.EncoderOptions{Command: co}, err
}

// storedEncoders returns the report's encoder of each space: its stored
// one, run with eo.
func storedEncoders(eo spaces.EncoderOptions) func(index.SpaceStore) (encoder.Encoder, error) {
	return func(sp index.SpaceStore) (encoder.Encoder, error) { return spaces.OpenEncoderWith(sp, eo) }
}
