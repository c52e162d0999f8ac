package cli

import "github.com/urfave/cli/v2"

func newInfoCommand() *cli.Command {
	return notBuilt("info", "describe a database file: items, spaces, parameters")
}
