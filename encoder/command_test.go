package encoder_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math"
	"strings"
	"testing"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/internal/commandtest"
)

func startCommand(t *testing.T, line string, res int) *encoder.Command {
	t.Helper()
	c, err := encoder.StartCommand(context.Background(), encoder.CommandOptions{Command: line, Res: res, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testImages(n, res int) []*image.RGBA {
	spec := dataset.Spec{N: n, Seed: 5, Res: res}
	images := make([]*image.RGBA, n)
	for i := range images {
		images[i] = spec.Image(i)
	}
	return images
}

func TestCommandEmbeds(t *testing.T) {
	bin := commandtest.Build(t)
	c := startCommand(t, bin, 32)
	if c.Dim() != 8 || c.Res() != 32 || !strings.HasPrefix(c.ID(), "command-") || !encoder.IsCommandSpec(c.Checkpoint()) {
		t.Fatalf("dim %d, res %d, id %s, spec %q", c.Dim(), c.Res(), c.ID(), c.Checkpoint())
	}
	if info := c.Info(); info.Command != bin || info.Dim != 8 || info.Res != 32 {
		t.Errorf("info %+v", info)
	}
	images := testImages(300, 32) // more than one frame
	got, err := c.Embed(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(images) {
		t.Fatalf("%d vectors for %d images", len(got), len(images))
	}
	for i, v := range got {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Fatalf("vector %d has squared norm %v", i, n)
		}
	}
	// Another process of the same command, answering in float64: the same
	// encoder, the same vectors.
	other := startCommand(t, bin+" -dtype '<f8' -log", 32)
	if other.ID() != c.ID() {
		t.Errorf("two runs of one command have identities %s and %s", c.ID(), other.ID())
	}
	if err := other.Matches(c.Checkpoint()); err != nil {
		t.Error(err)
	}
	again, err := other.Embed(context.Background(), images[:5])
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		for j := range again[i] {
			if math.Abs(float64(again[i][j]-got[i][j])) > 1e-6 {
				t.Fatalf("image %d: %v, then %v", i, got[i], again[i])
			}
		}
	}
	if _, err := c.Embed(context.Background(), testImages(1, 16)); err == nil {
		t.Error("an image of another size was embedded")
	}
}

func TestOpenCommand(t *testing.T) {
	bin := commandtest.Build(t)
	spec := startCommand(t, bin, 16).Checkpoint()

	t.Run("lazy", func(t *testing.T) {
		// Nothing runs until Embed: a command that cannot start is not
		// noticed by Res, Dim, ID, Info or Checkpoint.
		c, err := encoder.OpenCommand(spec, encoder.CommandOptions{Command: "exit 7"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.Res() != 16 || c.Dim() != 8 || c.Info().Command != "exit 7" || !bytes.Equal(c.Checkpoint(), spec) {
			t.Errorf("res %d, dim %d, info %+v", c.Res(), c.Dim(), c.Info())
		}
		_, err = c.Embed(context.Background(), testImages(1, 16))
		if !errors.Is(err, encoder.ErrCommand) || !strings.Contains(err.Error(), "status 7") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("same encoder", func(t *testing.T) {
		c, err := encoder.OpenCommand(spec, encoder.CommandOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Embed(context.Background(), testImages(3, 16)); err != nil {
			t.Fatal(err)
		}
		// Closed, it starts again on the next call.
		c.Close()
		if _, err := c.Embed(context.Background(), testImages(3, 16)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("changed encoder", func(t *testing.T) {
		c, err := encoder.OpenCommand(spec, encoder.CommandOptions{Command: bin + " -perturb 0.5"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Embed(context.Background(), testImages(3, 16))
		if !errors.Is(err, encoder.ErrCommandChanged) || !strings.Contains(err.Error(), "--reembed") {
			t.Errorf("error %v", err)
		}
		if changed := startCommand(t, bin+" -perturb 0.5", 16); !errors.Is(changed.Matches(spec), encoder.ErrCommandChanged) {
			t.Error("a changed command matches")
		}
		if other := startCommand(t, bin, 32); !errors.Is(other.Matches(spec), encoder.ErrCommandChanged) {
			t.Error("a command at another resolution matches")
		}
	})
	t.Run("adopt", func(t *testing.T) {
		c := startCommand(t, bin+" -log", 16)
		if err := c.Adopt(spec); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.Checkpoint(), spec) || c.Info().Command != bin+" -log" {
			t.Errorf("adopted: %q, %+v", c.Checkpoint(), c.Info())
		}
	})
	t.Run("bad spec", func(t *testing.T) {
		for _, b := range []string{"", "{}", `{"format":"simsearch-encoder-command","format_version":9}`,
			`{"format":"simsearch-encoder-command","format_version":1,"command":"x","res":16,"dim":8}`} {
			if _, err := encoder.OpenCommand([]byte(b), encoder.CommandOptions{}); !errors.Is(err, encoder.ErrBadCheckpoint) {
				t.Errorf("spec %q: error %v", b, err)
			}
		}
	})
}

func TestCommandFailures(t *testing.T) {
	bin := commandtest.Build(t)
	for _, c := range []struct {
		name, args string
		start      bool // the failure shows at StartCommand
		want       []string
	}{
		{"exits", "-fail-after 2", false, []string{"batch 3 (", "status 3", "testcommand: boom"}},
		{"hangs", "-hang-after 2", false, []string{"batch 3 (", "no answer within 300ms"}},
		{"NaN", "-nan-after 2", false, []string{"batch 3 (", "NaN"}},
		{"wrong shape", "-short-after 2", false, []string{"batch 3 (", "shape [4 8] for 5 images"}},
		{"prints to stdout", "-chatty", true, []string{"batch 1 (", "not a frame", "loading model"}},
		{"not deterministic", "-mode noise", true, []string{"deterministic", "model.eval()"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd, err := encoder.StartCommand(context.Background(), encoder.CommandOptions{Command: bin + " " + c.args, Res: 16, Timeout: 300 * time.Millisecond})
			if err == nil {
				defer cmd.Close()
				_, err = cmd.Embed(context.Background(), testImages(5, 16))
			} else if !c.start {
				t.Fatalf("start: %v", err)
			}
			if !errors.Is(err, encoder.ErrCommand) {
				t.Fatalf("error %v, want ErrCommand", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if cmd != nil {
				// The error sticks: the command is stopped.
				if _, again := cmd.Embed(context.Background(), testImages(1, 16)); !errors.Is(again, encoder.ErrCommand) {
					t.Errorf("next call: %v", again)
				}
			}
		})
	}
	t.Run("not found", func(t *testing.T) {
		var stderr bytes.Buffer
		_, err := encoder.StartCommand(context.Background(), encoder.CommandOptions{Command: "simsearch-no-such-program", Res: 16, Stderr: &stderr})
		if !errors.Is(err, encoder.ErrCommand) || !strings.Contains(err.Error(), "status 127") || !strings.Contains(stderr.String(), "not found") {
			t.Errorf("error %v, stderr %q", err, stderr.String())
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cmd := startCommand(t, bin+" -hang-after 2", 16)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := cmd.Embed(ctx, testImages(2, 16)); !errors.Is(err, context.Canceled) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("options", func(t *testing.T) {
		for _, o := range []encoder.CommandOptions{{Res: 16}, {Command: "x"}, {Command: "x", Res: 16, Timeout: -1}} {
			if _, err := encoder.StartCommand(context.Background(), o); !errors.Is(err, encoder.ErrOptions) {
				t.Errorf("options %+v: %v", o, err)
			}
		}
	})
}

func TestCommandFrameHoldsTheRGBBytes(t *testing.T) {
	// Odd sizes take the word loop and the byte loop of the conversion.
	for _, res := range []int{1, 7, 8, 33} {
		images := testImages(2, res)
		got := encoder.ImageFrameForTest(images)
		var want []byte
		for _, img := range images {
			for i := 0; i < len(img.Pix); i += 4 {
				want = append(want, img.Pix[i:i+3]...)
			}
		}
		if !bytes.HasSuffix(got, want) || (len(got)-8-len(want))%64 != 0 {
			t.Errorf("res %d: the frame does not end with the images' RGB bytes", res)
		}
	}
}
