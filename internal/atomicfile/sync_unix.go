//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"
)

// isUnsupported reports an error of a file system that cannot sync a
// folder, which is then as durable as it gets.
func isUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}

// newPending starts a write's temporary file.
var newPending = func(path string, perm os.FileMode) (pendingFile, error) {
	return renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(perm))
}
