package cli

import "github.com/urfave/cli/v2"

func newAugmentCommand() *cli.Command {
	return notBuilt("augment", "draw a grid of augmentations of one image")
}
