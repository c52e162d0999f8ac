//go:build unix

package atomicfile

import (
	"errors"
	"syscall"
)

// isUnsupported reports an error of a file system that cannot sync a
// folder, which is then as durable as it gets.
func isUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
