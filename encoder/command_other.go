//go:build !unix

package encoder

import "os/exec"

// shellCommand returns the command that runs line with the system shell.
func shellCommand(line string) *exec.Cmd {
	return exec.Command("cmd", "/C", line)
}

// killProcess kills cmd's process.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}
