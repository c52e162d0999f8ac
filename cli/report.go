package cli

import "github.com/urfave/cli/v2"

func newReportCommand() *cli.Command {
	return notBuilt("report", "measure what each space is invariant and sensitive to")
}
