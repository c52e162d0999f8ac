package cli

import "github.com/urfave/cli/v2"

func newGenerateCommand() *cli.Command {
	return notBuilt("generate", "write a colored-shapes dataset (PNG files and factors.csv)")
}
