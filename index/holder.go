package index

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"simsearch/internal/atomicfile"
)

// holder describes the process that holds a database file for writing.
// A writer records it beside the file (see holderPath) while it holds the
// lock, so that a process waiting for the file can say who it waits for.
type holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// holderPath is the file a writer of path records itself in: hidden, in
// the same folder.
func holderPath(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".writer")
}

// recordHolder records this process as the writer of path. It is called
// with the file's exclusive lock held; failing to record is not an error
// (the folder may be read-only to others' eyes), only less helpful.
func recordHolder(path string) {
	h := holder{PID: os.Getpid(), Command: strings.Join(commandLine(), " "), Since: time.Now().Truncate(time.Second)}
	b, err := json.Marshal(h)
	if err == nil {
		atomicfile.WriteFile(holderPath(path), b, 0o644)
	}
}

// forgetHolder removes the record of recordHolder, if it is this
// process's.
func forgetHolder(path string) {
	if h, ok := readHolder(path); ok && h.PID == os.Getpid() {
		os.Remove(holderPath(path))
	}
}

// readHolder reads the record of the writer of path, if there is one and
// its process is alive.
func readHolder(path string) (holder, bool) {
	b, err := os.ReadFile(holderPath(path))
	if err != nil {
		return holder{}, false
	}
	var h holder
	if json.Unmarshal(b, &h) != nil || h.PID <= 0 {
		return holder{}, false
	}
	if p, err := os.FindProcess(h.PID); err != nil || p.Signal(syscall.Signal(0)) != nil {
		return holder{}, false // a writer killed without cleaning up
	}
	return h, true
}

// describeHolder says who holds path, for a process that waits for it.
func describeHolder(path string) string {
	h, ok := readHolder(path)
	if !ok {
		return "another simsearch process (one that reads it, or did not say)"
	}
	return fmt.Sprintf("%q (pid %d, writing since %s)", h.Command, h.PID, h.Since.Format("15:04:05"))
}

// commandLine returns the command that runs this process, shortened to
// what names it: the program's base name and its arguments.
func commandLine() []string {
	args := append([]string(nil), os.Args...)
	if len(args) > 0 {
		args[0] = filepath.Base(args[0])
	}
	return args
}
