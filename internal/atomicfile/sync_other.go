//go:build !unix

package atomicfile

// isUnsupported reports an error of a file system that cannot sync a
// folder: on these systems a folder cannot be synced at all.
func isUnsupported(error) bool { return true }
