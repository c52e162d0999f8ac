// Command simsearch generates image datasets with known factors of variation,
// trains image encoders on them, stores their embeddings in an HNSW index kept
// in one bbolt file, and reports what each encoder became invariant to.
//
// Run "simsearch --help" for the commands and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"simsearch/cli"
	_ "simsearch/index/postgres" // --db postgres://… opens a PostgreSQL store
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := cli.New()
	err := app.RunContext(ctx, os.Args)
	stop()
	os.Exit(cli.ReportError(app.ErrWriter, err))
}
