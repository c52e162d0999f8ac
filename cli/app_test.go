package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// run runs the application with args and returns stdout, stderr and the exit
// code, as the simsearch binary would.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := New()
	app.Writer = &out
	app.ErrWriter = &errOut
	err := app.RunContext(context.Background(), append([]string{"simsearch"}, args...))
	code = ReportError(&errOut, err)
	return out.String(), errOut.String(), code
}

func TestHelpListsCommandsAndExitCodes(t *testing.T) {
	stdout, _, code := run(t, "--help")
	if code != ExitOK {
		t.Fatalf("exit code %d, want %d", code, ExitOK)
	}
	for _, want := range []string{"demo", "generate", "augment", "train", "ingest", "query", "report", "info", "check", "EXIT CODES", "--json"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
}

func TestUnknownTuningVariableIsAWarning(t *testing.T) {
	t.Setenv("SIMSEARCH_WINOGRAD", "fast")
	stdout, stderr, code := run(t, "info", "--help")
	if code != ExitOK || !strings.Contains(stdout, "info") {
		t.Fatalf("info --help printed %q with exit code %d", stdout, code)
	}
	if !strings.Contains(stderr, "warning: SIMSEARCH_WINOGRAD=fast is neither off nor 2x2") {
		t.Fatalf("stderr %q has no warning", stderr)
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := run(t, "--version")
	if code != ExitOK || !strings.Contains(stdout, Version) {
		t.Fatalf("--version printed %q with exit code %d", stdout, code)
	}
}

func TestUsageErrorsExitWithUsageCode(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"info", "--no-such-flag"},
		{"qurey"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stderr, code := run(t, args...)
			if code != ExitUsage {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, "--help") {
				t.Errorf("stderr does not point to --help: %q", stderr)
			}
		})
	}
}

func TestUnknownCommandSuggestsOne(t *testing.T) {
	_, stderr, code := run(t, "qurey", "--db", "x.db")
	if code != ExitUsage || !strings.Contains(stderr, `Did you mean "query"?`) {
		t.Fatalf("exit code %d, stderr %q; want %d and a suggestion", code, stderr, ExitUsage)
	}
}

func TestExitCodeOfCanceledContextIsInterrupted(t *testing.T) {
	if got := ExitCode(context.Canceled); got != ExitInterrupted {
		t.Fatalf("ExitCode(context.Canceled) = %d, want %d", got, ExitInterrupted)
	}
}
