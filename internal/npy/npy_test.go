package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

// Headers as NumPy 1.24 writes them (np.save, and write_array with
// version (2, 0)).
var numpyHeaders = []struct {
	name   string
	header string
	want   Header
}{
	{"float32 matrix", "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + strings.Repeat(" ", 58) + "\n",
		Header{Descr: "<f4", Shape: []int{2, 3}, Size: 128}},
	{"float64 vector", "\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }" + strings.Repeat(" ", 60) + "\n",
		Header{Descr: "<f8", Shape: []int{5}, Size: 128}},
	{"uint8 images", "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (1, 4, 4, 3), }" + strings.Repeat(" ", 52) + "\n",
		Header{Descr: "|u1", Shape: []int{1, 4, 4, 3}, Size: 128}},
	{"big-endian Fortran", "\x93NUMPY\x01\x00v\x00{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }" + strings.Repeat(" ", 59) + "\n",
		Header{Descr: ">f4", Fortran: true, Shape: []int{2, 3}, Size: 128}},
	{"version 2", "\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + strings.Repeat(" ", 58) + "\n",
		Header{Descr: "<f4", Shape: []int{3}, Size: 128}},
}

func TestReadHeader(t *testing.T) {
	for _, c := range numpyHeaders {
		t.Run(c.name, func(t *testing.T) {
			r := strings.NewReader(c.header + "DATA")
			h, err := ReadHeader(r)
			if err != nil {
				t.Fatal(err)
			}
			if h.Descr != c.want.Descr || h.Fortran != c.want.Fortran || !slices.Equal(h.Shape, c.want.Shape) || h.Size != c.want.Size {
				t.Errorf("header %+v, want %+v", h, c.want)
			}
			if rest, _ := io.ReadAll(r); string(rest) != "DATA" {
				t.Errorf("reader left at %q", rest)
			}
		})
	}
}

func TestReadHeaderErrors(t *testing.T) {
	good := numpyHeaders[0].header
	for _, c := range []struct {
		name, input string
		eof         bool
	}{
		{"empty", "", true},
		{"a line of text", "hello world\n", false},
		{"truncated magic", "\x93NUM", false},
		{"version 4", "\x93NUMPY\x04\x00" + good[8:], false},
		{"truncated dictionary", good[:40], false},
		{"structured dtype", "\x93NUMPY\x01\x00\x30\x00{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", false},
		{"no shape", "\x93NUMPY\x01\x00\x26\x00{'descr': '<f4', 'fortran_order': False}", false},
		{"negative dimension", "\x93NUMPY\x01\x00\x37\x00{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadHeader(strings.NewReader(c.input))
			switch {
			case c.eof && err != io.EOF:
				t.Errorf("error %v, want io.EOF", err)
			case !c.eof && !errors.Is(err, ErrFormat):
				t.Errorf("error %v, want ErrFormat", err)
			}
		})
	}
}

func TestAppendHeaderRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{256, 64, 64, 3}, {7}, {3, 128}, {}} {
		b := AppendHeader(nil, "|u1", shape)
		if len(b)%64 != 0 {
			t.Errorf("shape %v: header of %d bytes, not a multiple of 64", shape, len(b))
		}
		h, err := ReadHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if h.Descr != "|u1" || h.Fortran || !slices.Equal(h.Shape, shape) && len(shape) > 0 || h.Size != len(b) {
			t.Errorf("shape %v: read back %+v", shape, h)
		}
	}
	// NumPy's own header of the same array is byte for byte the same.
	if got := string(AppendHeader(nil, "<f4", []int{2, 3})); got != numpyHeaders[0].header {
		t.Errorf("header %q, NumPy writes %q", got, numpyHeaders[0].header)
	}
}

func TestReadFloat32s(t *testing.T) {
	values := []float64{1, -2.5, 65504, 1.0 / 3}
	f32 := func(order binary.AppendByteOrder) []byte {
		var b []byte
		for _, v := range values {
			b = order.AppendUint32(b, math.Float32bits(float32(v)))
		}
		return b
	}
	var f64 []byte
	for _, v := range values {
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(v))
	}
	var f16 []byte
	for _, bits := range []uint16{15360, 49408, 31743, 13653} { // NumPy's float16 of the values
		f16 = binary.LittleEndian.AppendUint16(f16, bits)
	}
	want := []float32{1, -2.5, 65504, 1.0 / 3}
	for _, c := range []struct {
		name string
		h    Header
		data []byte
		want []float32
		tol  float64
	}{
		{"float32", Header{Descr: "<f4", Shape: []int{2, 2}}, f32(binary.LittleEndian), want, 0},
		{"big-endian float32", Header{Descr: ">f4", Shape: []int{4}}, f32(binary.BigEndian), want, 0},
		{"float64", Header{Descr: "<f8", Shape: []int{2, 2}}, f64, want, 0},
		{"float16", Header{Descr: "<f2", Shape: []int{2, 2}}, f16, want, 1e-3},
		{"Fortran order", Header{Descr: "<f4", Fortran: true, Shape: []int{2, 2}}, f32(binary.LittleEndian), []float32{1, 65504, -2.5, 1.0 / 3}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadFloat32s(bytes.NewReader(c.data), c.h)
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.want {
				if math.Abs(float64(got[i]-c.want[i])) > c.tol {
					t.Fatalf("values %v, want %v", got, c.want)
				}
			}
		})
	}
	if _, err := ReadFloat32s(bytes.NewReader(f32(binary.LittleEndian)[:5]), Header{Descr: "<f4", Shape: []int{4}}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated data: %v", err)
	}
	if _, err := ReadFloat32s(bytes.NewReader(nil), Header{Descr: "<i8", Shape: []int{4}}); !errors.Is(err, ErrFormat) {
		t.Errorf("int64 data: %v", err)
	}
}

func TestFloat16(t *testing.T) {
	for bits, want := range map[uint16]float32{0: 0, 1: 5.960464477539063e-08, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0400: 6.103515625e-05} {
		if got := Float16(bits); got != want {
			t.Errorf("Float16(%#x) = %g, want %g", bits, got, want)
		}
	}
	if !math.IsInf(float64(Float16(0x7c00)), 1) || !math.IsNaN(float64(Float16(0x7e00))) {
		t.Error("infinity or NaN")
	}
}

// FuzzReadHeader checks that any bytes give a header or an error, never a
// panic, and that a header read is one AppendHeader writes alike.
func FuzzReadHeader(f *testing.F) {
	for _, c := range numpyHeaders {
		f.Add([]byte(c.header))
	}
	f.Add(AppendHeader(nil, "|u1", []int{2, 8, 8, 3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if h.Size > len(b) {
			t.Fatalf("header of %d bytes from %d", h.Size, len(b))
		}
		again, err := ReadHeader(bytes.NewReader(AppendHeader(nil, h.Descr, h.Shape)))
		if err != nil && !strings.ContainsAny(h.Descr, "'\"") {
			t.Fatalf("header %+v written back: %v", h, err)
		}
		_ = again
	})
}
