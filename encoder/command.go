package encoder

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"simsearch/internal/npy"
)

// The encoder command protocol. simsearch starts the command once and
// keeps it running; for each batch it writes one frame to the command's
// stdin and reads one frame from its stdout. A frame is the length of an
// .npy file as an 8-byte little-endian unsigned integer, then the bytes of
// that file (as numpy.save writes them):
//
//   - to the command: uint8 images, shape (N, H, W, 3), RGB, C order, with
//     H = W = the space's resolution;
//   - from the command: float32 vectors (float16 and float64 are converted),
//     shape (N, D), row i the vector of image i; D the same for every batch.
//
// Nothing but frames may be written to stdout; stderr is free (it is passed
// through). When simsearch is done it closes stdin: the command reads the
// end of its input and exits. The length prefix is there because NumPy
// cannot np.load from a pipe (it seeks back after the magic string):
// np.load(io.BytesIO(stdin.read(n))) reads a frame's file.

// DefaultCommandTimeout is how long an encoder command may take to answer
// one batch unless told otherwise; the first batch's time includes the
// command's start (a Python program importing torch and loading weights).
const DefaultCommandTimeout = 5 * time.Minute

// DefaultCommandBatch is the largest number of images in one frame unless
// told otherwise.
const DefaultCommandBatch = 256

// Limits of an encoder command's images and vectors.
const (
	MaxCommandRes = 1024
	MaxCommandDim = 1 << 16
)

// closeGrace is how long a command may take to exit once its stdin is
// closed before it is killed.
const closeGrace = 5 * time.Second

// CommandOptions configure an encoder command. Command and Res are
// required by StartCommand; OpenCommand takes them from the stored spec
// when they are empty.
type CommandOptions struct {
	// Command is the command line, run by the system shell (/bin/sh -c on
	// Unix), such as "python3 embed.py --weights model.pt". For a stored
	// spec, a non-empty Command runs instead of the stored one (the
	// program moved); its fingerprint must still match.
	Command string
	// Res is the side of the square images the command takes, 1 to
	// MaxCommandRes pixels.
	Res int
	// Timeout bounds the time of one batch, from the first byte written to
	// the last byte of the answer; 0 means DefaultCommandTimeout. A command
	// that takes longer is killed.
	Timeout time.Duration
	// Batch is the largest number of images in one frame; 0 means
	// DefaultCommandBatch. Embed splits larger calls.
	Batch int
	// Stderr receives the command's standard error as it is written; nil
	// discards it. Either way its last line is quoted in the error of a
	// command that fails.
	Stderr io.Writer
	// Dir is the command's working directory; empty means the current one.
	Dir string
}

// Command is an encoder that runs in another program (any framework, any
// architecture) and speaks the encoder command protocol over its stdin
// and stdout. It starts the program on first use and keeps it running
// until Close. Embed returns unit vectors, as every Encoder does.
//
// A Command's identity is its fingerprint: the vectors it gives for a fixed
// set of generated images. StartCommand takes it from the running command;
// OpenCommand reads it from a space's stored spec and checks, when the
// command starts, that the command still gives those vectors
// (ErrCommandChanged otherwise).
//
// Concurrency: a Command is safe for concurrent use; batches go through
// the one process in turn.
type Command struct {
	opts  CommandOptions
	spec  commandSpec
	bytes []byte
	id    string

	mu sync.Mutex
	// proc is the running program, nil before the first batch and after
	// Close; checked tells whether its fingerprint was compared with
	// spec's.
	proc    *process
	checked bool
	// batches counts the frames sent, for messages; failed is the error
	// that ended the process, returned by every later call.
	batches int
	failed  error
}

var _ Encoder = (*Command)(nil)

// withDefaults checks the options and fills their zero fields.
func (o CommandOptions) withDefaults() (CommandOptions, error) {
	o.Command = strings.TrimSpace(o.Command)
	switch {
	case o.Command == "":
		return o, fmt.Errorf("%w: an encoder command needs a command line", ErrOptions)
	case o.Res < 1 || o.Res > MaxCommandRes:
		return o, fmt.Errorf("%w: an encoder command takes images of 1 to %d pixels a side, not %d (give --res)", ErrOptions, MaxCommandRes, o.Res)
	case o.Timeout < 0 || o.Batch < 0:
		return o, fmt.Errorf("%w: negative timeout or batch", ErrOptions)
	}
	o.Timeout = cmp.Or(o.Timeout, DefaultCommandTimeout)
	o.Batch = cmp.Or(o.Batch, DefaultCommandBatch)
	return o, nil
}

// StartCommand starts the encoder command of opts and takes its
// fingerprint: it embeds the fingerprint images twice (a command that
// gives other vectors the second time is not deterministic, and an error
// wrapping ErrCommand says so) and learns the dimension. The command keeps
// running for Embed. Errors wrap ErrOptions for bad options and
// ErrCommand for a command that fails.
func StartCommand(ctx context.Context, opts CommandOptions) (*Command, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Command{opts: opts}
	images, imagesSpec, digest := fingerprintImages(opts.Res)
	c.mu.Lock()
	defer c.mu.Unlock()
	first, err := c.embedLocked(ctx, images, 0)
	if err != nil {
		c.closeLocked()
		return nil, err
	}
	dim := len(first[0])
	second, err := c.embedLocked(ctx, images, dim)
	if err != nil {
		c.closeLocked()
		return nil, err
	}
	if d, at := fingerprintDistance(first, second); d > FingerprintTolerance {
		c.killLocked()
		return nil, fmt.Errorf("%w %q: it gives other vectors for the same image the second time (image %d moved by %.3g); an encoder must be deterministic (in PyTorch: model.eval(), no dropout, no random augmentation)",
			ErrCommand, opts.Command, at, d)
	}
	c.spec = commandSpec{
		Format: commandFormat, FormatVersion: CommandFormatVersion,
		Command: opts.Command, Res: opts.Res, Dim: dim,
		Fingerprint: fingerprint{Images: imagesSpec, Digest: digest, Tolerance: FingerprintTolerance, Vectors: first},
	}
	c.bytes, c.id, c.checked = c.spec.encode(), c.spec.identity(), true
	return c, nil
}

// OpenCommand returns the encoder command of a stored spec (see
// IsCommandSpec) without starting it: Res, Dim, ID, Info and Checkpoint
// come from the spec. The first Embed starts the command (opts.Command, or
// else the stored command line) and compares its fingerprint with the
// stored one: an error wrapping ErrCommandChanged when they differ.
// opts.Res, when set, must be the stored resolution. Errors wrap
// ErrBadCheckpoint for bytes that are not a spec of this format version.
func OpenCommand(spec []byte, opts CommandOptions) (*Command, error) {
	s, err := decodeCommandSpec(spec)
	if err != nil {
		return nil, err
	}
	if opts.Res != 0 && opts.Res != s.Res {
		return nil, fmt.Errorf("%w: the encoder command takes %d px images, not %d", ErrOptions, s.Res, opts.Res)
	}
	opts.Res = s.Res
	opts.Command = cmp.Or(strings.TrimSpace(opts.Command), s.Command)
	if opts, err = opts.withDefaults(); err != nil {
		return nil, err
	}
	return &Command{opts: opts, spec: s, bytes: spec, id: s.identity()}, nil
}

// Res returns the side of the images the command takes.
func (c *Command) Res() int { return c.opts.Res }

// Dim returns the length of the command's vectors.
func (c *Command) Dim() int { return c.spec.Dim }

// ID returns the identity of the encoder: a digest of its resolution,
// dimension and fingerprint (not of its command line).
func (c *Command) ID() string { return c.id }

// Checkpoint returns the spec a space stores (see IsCommandSpec).
func (c *Command) Checkpoint() []byte { return c.bytes }

// CommandLine returns the command line the Command runs.
func (c *Command) CommandLine() string { return c.opts.Command }

// String describes the encoder, such as
// "encoder command `python3 embed.py`, 64 px, 128 dimensions".
func (c *Command) String() string {
	return fmt.Sprintf("encoder command `%s`, %d px, %d dimensions", c.opts.Command, c.opts.Res, c.spec.Dim)
}

// Info describes the encoder for reports: its command line, resolution and
// dimension. It does not start the command.
func (c *Command) Info() Info {
	return Info{FormatVersion: CommandFormatVersion, Command: c.opts.Command, Res: c.opts.Res, Dim: c.spec.Dim}
}

// Matches returns nil when c is the encoder of the stored spec: the same
// resolution and dimension, and fingerprint vectors within the spec's
// tolerance of the stored ones. Otherwise the error wraps
// ErrCommandChanged and says how far the vectors moved. c must have a
// fingerprint of its own (StartCommand).
func (c *Command) Matches(spec []byte) error {
	s, err := decodeCommandSpec(spec)
	if err != nil {
		return err
	}
	return c.spec.matches(s)
}

// matches compares a fingerprint taken now (got) with a stored one.
func (got commandSpec) matches(stored commandSpec) error {
	switch {
	case got.Res != stored.Res:
		return fmt.Errorf("%w: the space's encoder takes %d px images, this one %d", ErrCommandChanged, stored.Res, got.Res)
	case got.Dim != stored.Dim:
		return fmt.Errorf("%w: the space's encoder gave %d-dimensional vectors, this one %d", ErrCommandChanged, stored.Dim, got.Dim)
	case got.Fingerprint.Digest != stored.Fingerprint.Digest:
		return fmt.Errorf("%w: this build of simsearch draws other fingerprint images (%s) than the one that made the space (%s)", ErrCommandChanged, got.Fingerprint.Images, stored.Fingerprint.Images)
	}
	if d, at := fingerprintDistance(stored.Fingerprint.Vectors, got.Fingerprint.Vectors); d > stored.Fingerprint.Tolerance {
		return fmt.Errorf("%w: fingerprint image %d moved by %.3g (tolerance %g)", ErrCommandChanged, at, d, stored.Fingerprint.Tolerance)
	}
	return nil
}

// Adopt makes c the encoder of the stored spec, once Matches says it is:
// c takes the spec's identity and bytes, so that it embeds for the space
// under the space's own identity. c keeps its command line.
func (c *Command) Adopt(spec []byte) error {
	if err := c.Matches(spec); err != nil {
		return err
	}
	s, _ := decodeCommandSpec(spec)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spec, c.bytes, c.id = s, spec, s.identity()
	return nil
}

// Embed returns one unit vector of Dim values per image, in order. Every
// image must be Res×Res pixels. The first call starts the command (and,
// for an opened spec, checks its fingerprint). A command that exits, does
// not answer within the timeout, or answers with another shape or with
// values that are not finite, gets an error wrapping ErrCommand that names
// the batch; the command is then stopped and every later call returns
// that error. A vector of zeros is returned as it is (it has no
// direction).
func (c *Command) Embed(ctx context.Context, images []*image.RGBA) ([][]float32, error) {
	res := c.opts.Res
	if err := checkImages(images, res); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.checked {
		if err := c.checkLocked(ctx); err != nil {
			return nil, err
		}
	}
	out := make([][]float32, 0, len(images))
	for start := 0; start < len(images); start += c.opts.Batch {
		v, err := c.embedLocked(ctx, images[start:min(start+c.opts.Batch, len(images))], c.spec.Dim)
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	return out, nil
}

// checkLocked compares the fingerprint of the command, now, with the
// stored one.
func (c *Command) checkLocked(ctx context.Context) error {
	images, imagesSpec, digest := fingerprintImages(c.opts.Res)
	v, err := c.embedLocked(ctx, images, c.spec.Dim)
	if err != nil {
		return err
	}
	now := c.spec
	now.Fingerprint = fingerprint{Images: imagesSpec, Digest: digest, Vectors: v}
	if err := now.matches(c.spec); err != nil {
		c.killLocked()
		c.failed = fmt.Errorf("encoder command %q: %w; use the command the space was made with, or ingest with --reembed to rebuild the space", c.opts.Command, err)
		return c.failed
	}
	c.checked = true
	return nil
}

// Close stops the command: it closes its stdin and waits a few seconds for
// it to exit before killing it. A Command opened again after Close starts
// a new process on its next Embed.
func (c *Command) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeLocked()
}

func (c *Command) closeLocked() error {
	if c.proc == nil {
		return nil
	}
	c.proc.close()
	c.proc = nil
	// A process started again must show its fingerprint again.
	c.checked = false
	return nil
}

// killLocked ends a command that failed, without waiting.
func (c *Command) killLocked() {
	if c.proc == nil {
		return
	}
	c.proc.kill()
	<-c.proc.exited
	c.proc.stdin.Close()
	c.proc.stdoutFile.Close()
	c.proc = nil
	c.checked = false
}

// embedLocked sends images as one or more frames of at most Batch images
// and returns their unit vectors. dim is the dimension expected, 0 when
// not yet known.
func (c *Command) embedLocked(ctx context.Context, images []*image.RGBA, dim int) ([][]float32, error) {
	if c.failed != nil {
		return nil, c.failed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.proc == nil {
		p, err := startProcess(c.opts)
		if err != nil {
			c.failed = fmt.Errorf("%w %q: %w", ErrCommand, c.opts.Command, err)
			return nil, c.failed
		}
		c.proc = p
	}
	c.batches++
	vectors, err := c.proc.roundTrip(ctx, images, dim, c.opts.Timeout)
	if err != nil {
		// The frame was cut short, or the command cannot be trusted with
		// the next one: it is stopped.
		c.killLocked()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.failed = fmt.Errorf("%w %q: batch %d (%d images): %w", ErrCommand, c.opts.Command, c.batches, len(images), err)
		return nil, c.failed
	}
	return vectors, nil
}

// process is a running encoder command.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	// stdoutFile is the pipe stdout reads, closed by close.
	stdoutFile *os.File
	stderr     *tailWriter
	// exited is closed once the process has exited; waitErr is then its
	// exit status.
	exited  chan struct{}
	waitErr error
	// frame is the buffer of the frames written, kept from one batch to
	// the next.
	frame []byte
}

func startProcess(opts CommandOptions) (*process, error) {
	cmd := shellCommand(opts.Command)
	cmd.Dir = opts.Dir
	p := &process{cmd: cmd, stderr: &tailWriter{w: opts.Stderr}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	// A grandchild that keeps stderr open does not hold Wait for long.
	cmd.WaitDelay = closeGrace
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	// A pipe of our own, not StdoutPipe: Wait, which runs beside the
	// reads, closes the pipes it made, and a read would then fail with
	// "file already closed" instead of seeing the command's end.
	stdout, childStdout, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = childStdout
	p.stdout = bufio.NewReaderSize(stdout, 256<<10)
	p.stdoutFile = stdout
	err = cmd.Start()
	childStdout.Close()
	if err != nil {
		stdout.Close()
		return nil, fmt.Errorf("cannot start it: %w", err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// close closes the command's stdin, waits up to closeGrace for it to exit,
// then kills it.
func (p *process) close() error {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(closeGrace):
		killProcess(p.cmd)
		<-p.exited
	}
	p.stdoutFile.Close()
	return nil
}

// kill ends the process and everything it started.
func (p *process) kill() {
	killProcess(p.cmd)
}

// roundTrip writes one frame of images and reads the answer. On timeout or
// cancellation it kills the process.
func (p *process) roundTrip(ctx context.Context, images []*image.RGBA, dim int, timeout time.Duration) ([][]float32, error) {
	var timedOut, cancelled bool
	var mu sync.Mutex
	timer := time.AfterFunc(timeout, func() {
		mu.Lock()
		timedOut = true
		mu.Unlock()
		p.kill()
	})
	defer timer.Stop()
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		cancelled = true
		mu.Unlock()
		p.kill()
	})
	defer stop()

	p.frame = appendImageFrame(p.frame[:0], images)
	written := make(chan error, 1)
	go func() {
		_, err := p.stdin.Write(p.frame)
		written <- err
	}()
	vectors, readErr := readVectorFrame(p.stdout, len(images), dim)
	writeErr := <-written
	mu.Lock()
	defer mu.Unlock()
	switch {
	case cancelled:
		return nil, ctx.Err()
	case timedOut:
		return nil, fmt.Errorf("no answer within %v (--encoder-timeout); the command was stopped%s", timeout, p.stderr.last())
	case readErr == nil && writeErr != nil:
		return nil, fmt.Errorf("writing the images: %w", writeErr)
	case readErr == nil:
		return vectors, nil
	}
	// The command exited, or spoke out of turn: say which.
	if errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF) || writeErr != nil {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the command exited (%s) before answering%s", exitStatus(p.waitErr), p.stderr.last())
		case <-time.After(closeGrace):
		}
	}
	return nil, fmt.Errorf("%w%s", readErr, p.stderr.last())
}

// exitStatus describes how a process ended.
func exitStatus(err error) string {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "status 0"
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return fmt.Sprintf("status %d", exit.ExitCode())
	}
	return err.Error()
}

// appendImageFrame appends the frame of images (all of one size) to b.
func appendImageFrame(b []byte, images []*image.RGBA) []byte {
	res := images[0].Rect.Dx()
	start := len(b)
	b = append(b, make([]byte, 8)...)
	b = npy.AppendHeader(b, "|u1", []int{len(images), res, res, 3})
	b = growBytes(b, len(images)*res*res*3)
	pix := b[len(b)-len(images)*res*res*3:]
	k := 0
	for _, img := range images {
		for y := range res {
			rgbRow(pix[k:k+3*res], img.Pix[y*img.Stride:y*img.Stride+4*res])
			k += 3 * res
		}
	}
	binary.LittleEndian.PutUint64(b[start:], uint64(len(b)-start-8))
	return b
}

// rgbRow copies the red, green and blue bytes of a row of RGBA pixels to
// dst, eight pixels at a time through 64-bit words.
func rgbRow(dst, src []byte) {
	for len(src) >= 32 && len(dst) >= 24 {
		a := binary.LittleEndian.Uint64(src[0:8])
		b := binary.LittleEndian.Uint64(src[8:16])
		c := binary.LittleEndian.Uint64(src[16:24])
		d := binary.LittleEndian.Uint64(src[24:32])
		// Each word holds two pixels R G B A R G B A: keep six bytes.
		p := a&0xffffff | (a>>8)&0xffffff000000
		q := b&0xffffff | (b>>8)&0xffffff000000
		r := c&0xffffff | (c>>8)&0xffffff000000
		s := d&0xffffff | (d>>8)&0xffffff000000
		binary.LittleEndian.PutUint64(dst[0:8], p|q<<48)
		binary.LittleEndian.PutUint64(dst[8:16], q>>16|r<<32)
		binary.LittleEndian.PutUint64(dst[16:24], r>>32|s<<16)
		src, dst = src[32:], dst[24:]
	}
	for len(src) >= 4 && len(dst) >= 3 {
		dst[0], dst[1], dst[2] = src[0], src[1], src[2]
		src, dst = src[4:], dst[3:]
	}
}

// growBytes extends b by n bytes.
func growBytes(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// readVectorFrame reads one frame of n vectors (of dim values when dim >
// 0) and returns them normalized.
func readVectorFrame(r *bufio.Reader, n, dim int) ([][]float32, error) {
	var lead [8]byte
	if _, err := io.ReadFull(r, lead[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint64(lead[:])
	maxSize := uint64(npy.MaxHeader) + 64 + uint64(n)*MaxCommandDim*8
	if size > maxSize || size < 10 {
		peek, _ := r.Peek(min(r.Buffered(), 32))
		return nil, fmt.Errorf("its stdout holds %q, not a frame (an 8-byte length, then an .npy file); a command must write nothing else to stdout (print to stderr)", string(lead[:])+string(peek))
	}
	body := io.LimitReader(r, int64(size))
	h, err := npy.ReadHeader(body)
	if err != nil {
		return nil, fmt.Errorf("its answer is not an .npy file: %w", err)
	}
	switch {
	case len(h.Shape) != 2 || h.Shape[0] != n || (dim > 0 && h.Shape[1] != dim):
		want := fmt.Sprintf("(%d, %d)", n, dim)
		if dim == 0 {
			want = fmt.Sprintf("(%d, D)", n)
		}
		return nil, fmt.Errorf("it answered an array of shape %v for %d images; want %s", h.Shape, n, want)
	case h.Shape[1] < 1 || h.Shape[1] > MaxCommandDim:
		return nil, fmt.Errorf("it answered vectors of %d values; want 1 to %d", h.Shape[1], MaxCommandDim)
	case uint64(h.Size)+uint64(h.Len()*npy.ItemSize(h.Descr)) != size:
		return nil, fmt.Errorf("its frame of %d bytes holds an array of shape %v and dtype %s", size, h.Shape, h.Descr)
	}
	flat, err := npy.ReadFloat32s(body, h)
	if err != nil {
		return nil, fmt.Errorf("its answer: %w", err)
	}
	d := h.Shape[1]
	out := make([][]float32, n)
	for i := range out {
		v := flat[i*d : (i+1)*d : (i+1)*d]
		var sum float64
		for j, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("the vector of image %d holds %v (value %d)", i, x, j)
			}
			sum += float64(x) * float64(x)
		}
		if sum > 0 {
			inv := 1 / math.Sqrt(sum)
			for j := range v {
				v[j] = float32(float64(v[j]) * inv)
			}
		}
		out[i] = v
	}
	return out, nil
}

// tailWriter passes a command's stderr on and keeps its last bytes.
type tailWriter struct {
	w    io.Writer
	mu   sync.Mutex
	tail []byte
}

const tailSize = 4 << 10

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.tail = append(t.tail, b...)
	if len(t.tail) > tailSize {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-tailSize:]...)
	}
	t.mu.Unlock()
	if t.w != nil {
		t.w.Write(b) // a failing terminal must not stop the encoder
	}
	return len(b), nil
}

// last returns "; its stderr ends: LINE" for the last non-empty line of
// stderr, or "".
func (t *tailWriter) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.tail)), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	if line == "" {
		return ""
	}
	return fmt.Sprintf("; its stderr ends: %q", line)
}
