package atomicfile

import (
	"os"
	"path/filepath"
)

// tempFile is a write's temporary file made by hand: a hidden file beside
// the target, synced and renamed over it (os.Rename replaces an existing
// file). Systems renameio does not build on use it; it builds everywhere
// so that it is tested everywhere.
type tempFile struct {
	*os.File
	path string
	perm os.FileMode
}

func newTempFile(path string, perm os.FileMode) (*tempFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path))
	if err != nil {
		return nil, err
	}
	return &tempFile{File: f, path: path, perm: perm}, nil
}

// CloseAtomicallyReplace syncs and closes the file and renames it over its
// target.
func (t *tempFile) CloseAtomicallyReplace() error {
	if err := t.Sync(); err != nil {
		return err
	}
	if err := t.Close(); err != nil {
		return err
	}
	if err := os.Chmod(t.Name(), t.perm); err != nil {
		return err
	}
	return os.Rename(t.Name(), t.path)
}

// Cleanup closes and removes the temporary file.
func (t *tempFile) Cleanup() error {
	t.Close()
	return os.Remove(t.Name())
}
