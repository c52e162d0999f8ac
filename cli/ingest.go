package cli

import "github.com/urfave/cli/v2"

func newIngestCommand() *cli.Command {
	return notBuilt("ingest", "embed images into a space of a database file")
}
