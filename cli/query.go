package cli

import "github.com/urfave/cli/v2"

func newQueryCommand() *cli.Command {
	return notBuilt("query", "find the nearest items of an image or item")
}
