package encoder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"simsearch/internal/atomicfile"
)

// StepsPerEpoch is the number of training steps one epoch over images
// training images takes in batches of batch: ⌈images/batch⌉, or
// ⌊images/batch⌋ when the last partial batch is dropped (see
// TrainOptions.DropLast).
func StepsPerEpoch(images, batch int, dropLast bool) int {
	if batch <= 0 {
		return 0
	}
	if dropLast {
		return images / batch
	}
	return (images + batch - 1) / batch
}

// LossPath returns the path of the loss CSV that TrainToFiles writes
// beside the checkpoint at path: enc-A.safetensors → enc-A.loss.csv.
func LossPath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".loss.csv"
}

// TrainToFiles trains a model with opts (see Train) and writes its
// checkpoint to path and the loss of every step to LossPath(path). Both
// files are written atomically once training has finished: a failed or
// interrupted training changes neither and leaves no temporary file.
// opts.LossLog, if set, also receives the log as it is written.
//
// While it trains, TrainToFiles keeps a training state at StatePath(path),
// written atomically after every epoch and when ctx stops the training
// (Ctrl-C). A later call with the same options finds it and goes on from
// it, to the same weights, bit for bit, as a training that never stopped;
// the state is removed once the checkpoint is written. A state of other
// settings is an error wrapping ErrStateMismatch that names the
// difference, a damaged one an error wrapping ErrBadState; opts.Restart
// removes the state and starts afresh.
func TrainToFiles(ctx context.Context, opts TrainOptions, path string) (*Model, error) {
	statePath := StatePath(path)
	if opts.Restart {
		if err := os.Remove(statePath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	} else {
		state, err := readState(statePath)
		if err != nil {
			return nil, err
		}
		opts.resume = state
	}
	var log bytes.Buffer
	if opts.LossLog != nil {
		opts.LossLog = teeWriter{&log, opts.LossLog}
	} else {
		opts.LossLog = &log
	}
	opts.saveState = func(s *trainState) error {
		s.lossLog = bytes.Clone(log.Bytes())
		return writeState(statePath, s)
	}
	m, err := Train(ctx, opts)
	if errors.Is(err, ErrStateMismatch) {
		return nil, fmt.Errorf("%w; %s is kept: train with its settings to resume it, or restart to replace it", err, statePath)
	}
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(LossPath(path), log.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write the loss log: %w", err)
	}
	if err := m.Save(path); err != nil {
		return nil, fmt.Errorf("write the checkpoint: %w", err)
	}
	if err := os.Remove(statePath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return m, nil
}

// teeWriter writes to both writers, stopping at the first error.
type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (t teeWriter) Write(p []byte) (int, error) {
	if n, err := t.a.Write(p); err != nil {
		return n, err
	}
	return t.b.Write(p)
}
