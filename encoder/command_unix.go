//go:build unix

package encoder

import (
	"os/exec"
	"syscall"
)

// shellCommand returns the command that runs line with the system shell,
// in a process group of its own so that killing it ends what it started
// (and a Ctrl-C at the terminal reaches simsearch, which stops it).
func shellCommand(line string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// killProcess kills the process group of cmd.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
