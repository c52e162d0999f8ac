package cli

import "github.com/urfave/cli/v2"

func newTrainCommand() *cli.Command {
	return notBuilt("train", "train an encoder and write a checkpoint")
}
