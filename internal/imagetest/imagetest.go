// Package imagetest holds the image helpers that tests of several
// packages share: encoding an image as a file and decoding one back.
package imagetest

import (
	"bytes"
	"image"
	_ "image/gif" // decoded by Decode
	_ "image/jpeg"
	"image/png"
	"testing"
)

// PNG returns img as a PNG file, failing the test on an error.
func PNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Decode decodes a PNG, JPEG or GIF file, failing the test on an error.
func Decode(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
