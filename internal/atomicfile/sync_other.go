//go:build !unix

package atomicfile

import "os"

// isUnsupported reports an error of a file system that cannot sync a
// folder: on these systems a folder cannot be synced at all.
func isUnsupported(error) bool { return true }

// newPending starts a write's temporary file, made by hand where renameio
// does not build.
var newPending = func(path string, perm os.FileMode) (pendingFile, error) { return newTempFile(path, perm) }
