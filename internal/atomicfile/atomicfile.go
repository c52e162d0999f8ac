// Package atomicfile writes files so that a reader, or the machine after a
// crash or a power loss, finds either the old content under the name or
// the new one, never a part of it and never an empty file.
//
// A file is written to a hidden temporary file in the same folder
// (github.com/google/renameio/v2 on Unix, the same steps by hand
// elsewhere), synced, renamed over the name, and the folder is synced so
// that the rename itself is durable where the system can sync a folder. A write that
// fails or is abandoned removes its temporary file; only a process killed
// in the few milliseconds of the write itself can leave one behind
// (".name" followed by digits).
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// File is a file being written under a temporary name. Write to it, then
// Commit to put it under its name, or Abort to drop it. It is not safe for
// concurrent use.
type File struct {
	pending pendingFile
	path    string
	done    bool
}

// Create starts writing the file at path with permissions perm.
func Create(path string, perm os.FileMode) (*File, error) {
	pf, err := newPending(path, perm)
	if err != nil {
		return nil, err
	}
	return &File{pending: pf, path: path}, nil
}

// pendingFile is a temporary file that replaces its target atomically.
type pendingFile interface {
	io.Writer
	CloseAtomicallyReplace() error
	Cleanup() error
}

// Write writes p to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.pending.Write(p) }

// Commit syncs the file, renames it to its name and syncs the folder.
// After an error the temporary file is removed and the old file, if any,
// is left as it was.
func (f *File) Commit() error {
	if f.done {
		return os.ErrClosed
	}
	f.done = true
	if err := f.pending.CloseAtomicallyReplace(); err != nil {
		f.pending.Cleanup()
		return err
	}
	return syncDir(filepath.Dir(f.path))
}

// Abort removes the temporary file. It does nothing after Commit, so it
// may be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.pending.Cleanup()
}

// WriteFile writes data to the file at path with permissions perm,
// atomically and durably.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write writes the file at path with what fill writes, atomically and
// durably; when fill fails, nothing changes at path.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := fill(f); err != nil {
		return err
	}
	return f.Commit()
}

// syncDir makes the entries of the folder dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupported(err) {
		return err
	}
	return nil
}
