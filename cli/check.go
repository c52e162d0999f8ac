package cli

import "github.com/urfave/cli/v2"

func newCheckCommand() *cli.Command {
	return notBuilt("check", "measure the recall and speed of a space's HNSW index against exact search")
}
