package encoder_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"simsearch/encoder"
	"simsearch/internal/commandtest"
)

// BenchmarkCommandFraming measures the encoder command protocol alone: a
// Go command that reads each frame of images and answers fixed vectors of
// 128 values, at 64 px, per batch size. Its images/s bound what any
// command can reach through the protocol.
//
// SIMSEARCH_BENCH_COMMAND, when set, is measured instead (a real encoder
// behind the protocol, such as "python3 bench/torch_command.py"), with
// SIMSEARCH_BENCH_RES (default 64).
func BenchmarkCommandFraming(b *testing.B) {
	line := os.Getenv("SIMSEARCH_BENCH_COMMAND")
	res := 64
	if s := os.Getenv("SIMSEARCH_BENCH_RES"); s != "" {
		res, _ = strconv.Atoi(s)
	}
	if line == "" {
		line = commandtest.Build(b) + " -mode fixed -dim 128"
	}
	for _, batch := range []int{64, 256} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			c, err := encoder.StartCommand(context.Background(), encoder.CommandOptions{Command: line, Res: res, Batch: batch})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			images := testImages(batch, res)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Embed(context.Background(), images); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
