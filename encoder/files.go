package encoder

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"simsearch/internal/atomicfile"
)

// StepsPerEpoch is the number of training steps one epoch over images
// training images takes in batches of batch.
func StepsPerEpoch(images, batch int) int {
	if batch <= 0 {
		return 0
	}
	return images / batch
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
func TrainToFiles(ctx context.Context, opts TrainOptions, path string) (*Model, error) {
	var log bytes.Buffer
	if opts.LossLog != nil {
		opts.LossLog = teeWriter{&log, opts.LossLog}
	} else {
		opts.LossLog = &log
	}
	m, err := Train(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(LossPath(path), log.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write the loss log: %w", err)
	}
	if err := m.Save(path); err != nil {
		return nil, fmt.Errorf("write the checkpoint: %w", err)
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
