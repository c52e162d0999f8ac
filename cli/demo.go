package cli

import "github.com/urfave/cli/v2"

func newDemoCommand() *cli.Command {
	return notBuilt("demo", "run the whole chain on a small default and print what each encoder is invariant to")
}
