// Package commandtest builds internal/testcommand, the encoder command of
// the tests: a Go program, so that no test needs Python.
package commandtest

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Build builds the test command into t's temporary folder and returns its
// path quoted for a shell command line. The go command's cache makes every
// build after the first a link alone. It skips the test when there is no
// go command.
func Build(t testing.TB) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the test encoder command")
		}
	}
	path := filepath.Join(t.TempDir(), "testcommand")
	out, err := exec.Command(goTool, "build", "-o", path, "simsearch/internal/testcommand").CombinedOutput()
	if err != nil {
		t.Fatalf("build the test encoder command: %v\n%s", err, out)
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
