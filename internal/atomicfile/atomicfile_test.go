package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWrite runs on this system's temporary files (renameio's on Unix) and
// on the ones made by hand for other systems.
func TestWrite(t *testing.T) {
	t.Run("default", testWrite)
	t.Run("by hand", func(t *testing.T) {
		defer func(old func(string, os.FileMode) (pendingFile, error)) { newPending = old }(newPending)
		newPending = func(path string, perm os.FileMode) (pendingFile, error) { return newTempFile(path, perm) }
		testWrite(t)
	})
}

func testWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	t.Run("new", func(t *testing.T) {
		if err := WriteFile(path, []byte("one"), 0o644); err != nil {
			t.Fatal(err)
		}
		assertFile(t, path, "one")
	})
	t.Run("replace", func(t *testing.T) {
		if err := WriteFile(path, []byte("two"), 0o644); err != nil {
			t.Fatal(err)
		}
		assertFile(t, path, "two")
	})
	t.Run("failed fill keeps the old file", func(t *testing.T) {
		boom := errors.New("boom")
		err := Write(path, 0o644, func(w io.Writer) error {
			w.Write([]byte("half"))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("error %v, want boom", err)
		}
		assertFile(t, path, "two")
	})
	t.Run("abort", func(t *testing.T) {
		f, err := Create(path, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("three"))
		f.Abort()
		f.Abort()
		assertFile(t, path, "two")
		if err := f.Commit(); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
	})
	t.Run("no folder", func(t *testing.T) {
		if err := WriteFile(filepath.Join(dir, "nosuch", "f"), nil, 0o644); err == nil {
			t.Fatal("write into a missing folder succeeded")
		}
	})
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("folder holds %v, want only f.txt: a temporary file was left", names)
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatalf("%s holds %q, want %q", path, b, want)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Fatalf("%s has mode %v, want 0644", path, info.Mode().Perm())
	}
}
