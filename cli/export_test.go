package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportCopiesASpace copies a space to another file and back, as a
// lab would move one to its server: resumable, and a second run adds
// nothing.
func TestExportCopiesASpace(t *testing.T) {
	db := queryFile(t)
	other := filepath.Join(t.TempDir(), "other.db")
	for round, want := range []string{`"items_added":60`, `"items_added":0`} {
		stdout, stderr, code := run(t, "export", "--db", db, "--space", "p", "--to", other, "--json", "--quiet")
		if code != ExitOK || !strings.Contains(stdout, want) {
			t.Fatalf("round %d: exit code %d, stdout %q, stderr %q; want %s", round, code, stdout, stderr, want)
		}
	}
	// The copy answers queries like the original.
	a := queryJSON(t, "--db", db, "--id", "5", "-k", "3", "--exact")
	b := queryJSON(t, "--db", other, "--id", "5", "-k", "3", "--exact")
	ja, _ := json.Marshal(a[0].Neighbours)
	jb, _ := json.Marshal(b[0].Neighbours)
	if string(ja) != string(jb) {
		t.Errorf("neighbours differ after the copy:\n%s\n%s", ja, jb)
	}
	back := filepath.Join(t.TempDir(), "back.db")
	if _, stderr, code := run(t, "export", "--db", back, "--from", other, "--quiet"); code != ExitOK {
		t.Fatalf("--from: exit code %d, stderr %q", code, stderr)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"two outputs", []string{"export", "--db", db, "--to", other, "--out", "x.npy"}, "not several"},
		{"filter with a copy", []string{"export", "--db", db, "--to", other, "--filter", "split=val"}, "whole space"},
		{"a copy to itself", []string{"export", "--db", db, "--to", db}, "the --db file itself"},
		{"a copy from itself", []string{"export", "--db", other, "--from", filepath.Join(filepath.Dir(other), ".", filepath.Base(other))}, "the --db file itself"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, c.args...)
			if code != ExitUsage || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit code %d, stderr %q; want %d and %q", code, stderr, ExitUsage, c.want)
			}
		})
	}
}
