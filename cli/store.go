package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"simsearch/index"
)

// dbFlag is the --db flag of every command that opens a database.
func dbFlag(what string) cli.Flag {
	return &cli.StringFlag{Name: "db", Usage: "database `FILE` " + what + " (required); or a server's URL when this build has its driver"}
}

// timeoutFlag is how long to wait for another process holding the file.
func timeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "timeout", Value: index.DefaultTimeout,
		Usage: "how long to wait for another simsearch process that holds the file (0: do not wait)"}
}

// store is an open --db store. A writable store that the command created
// and left empty is removed again when the command fails (see finish).
type store struct {
	index.Store
	created bool
}

// openStore opens the --db store for reading, or for writing (creating a
// file if there is none). While another process holds the file, it says
// who on stderr and waits up to --timeout.
func openStore(c *cli.Context, o *output, readOnly bool, progress func(index.Progress)) (*store, error) {
	return openStoreWith(c, o, index.Options{ReadOnly: readOnly, Progress: progress})
}

// openStoreWith is openStore with more of the index's options (Workers).
func openStoreWith(c *cli.Context, o *output, opts index.Options) (*store, error) {
	target := c.String("db")
	switch {
	case target == "":
		return nil, usagef("%s needs --db, the database file", c.Command.Name)
	case c.Duration("timeout") < 0:
		return nil, usagef("--timeout must not be negative, not %v", c.Duration("timeout"))
	}
	timeout := c.Duration("timeout")
	if timeout == 0 {
		timeout = time.Nanosecond // do not wait
	}
	opts.Timeout = timeout
	opts.Waiting = func(holder string) {
		o.logf("%s is in use by %s; waiting up to %v (--timeout) ...", target, holder, timeout)
	}
	_, statErr := os.Stat(target)
	st, err := index.Connect(c.Context, target, opts)
	if err != nil {
		return nil, err
	}
	return &store{Store: st, created: !opts.ReadOnly && errors.Is(statErr, fs.ErrNotExist)}, nil
}

// finish closes the store after the command ran with outcome err, and
// returns err or the error of closing. A file the command created and
// that holds nothing is removed when the command failed, so that a
// mistake leaves no empty database behind.
func (s *store) finish(err error) error {
	empty := s.created && s.Len() == 0
	if empty {
		if names, nameErr := s.SpaceNames(); nameErr != nil || len(names) > 0 {
			empty = false
		}
	}
	closeErr := s.Close()
	if err != nil {
		if empty && index.File(s.Store) != nil {
			os.Remove(s.Path())
		}
		return err
	}
	if closeErr != nil {
		return fmt.Errorf("close %s: %w", s.Path(), closeErr)
	}
	return nil
}
