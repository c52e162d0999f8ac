// Package npy reads and writes the header of NumPy's .npy format (version
// 1.0, 2.0 and 3.0 headers read, 1.0 written): the magic string, the
// version, and the dictionary that gives an array's dtype, memory order and
// shape. The data that follows is the caller's: simsearch reads and writes
// only plain arrays of uint8, float16, float32 and float64 values, which
// need no more than the header to be laid out.
//
// Every header read here comes from outside (a file a user names, the
// stdout of an encoder command): ReadHeader never panics and refuses
// headers larger than MaxHeader.
package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Magic starts every .npy file.
const Magic = "\x93NUMPY"

// MaxHeader is the largest header dictionary ReadHeader accepts, in
// bytes: NumPy writes fewer than 200 for any plain array.
const MaxHeader = 64 << 10

// ErrFormat is wrapped by every error of a header that is not .npy, or not
// one of a plain array.
var ErrFormat = errors.New("not an .npy array")

// Header is what an .npy header says of its array.
type Header struct {
	// Descr is the dtype, such as "<f4" (little-endian float32) or "|u1"
	// (uint8).
	Descr string
	// Fortran tells that the data is in column-major (Fortran) order.
	Fortran bool
	// Shape is the array's shape; empty for a scalar.
	Shape []int
	// Size is the header's length in bytes, magic included: the data
	// starts there.
	Size int
}

// Len returns the number of elements of the array, or -1 when it
// overflows an int.
func (h Header) Len() int {
	n := 1
	for _, d := range h.Shape {
		if d != 0 && n > (1<<62)/d {
			return -1
		}
		n *= d
	}
	return n
}

// ItemSize returns the size of one element of the dtype in bytes, or 0 for
// a dtype this package does not lay out.
func ItemSize(descr string) int {
	switch descr {
	case "|u1", "<u1", ">u1", "u1", "|i1", "<i1", ">i1", "|b1":
		return 1
	case "<f2", ">f2":
		return 2
	case "<f4", ">f4":
		return 4
	case "<f8", ">f8":
		return 8
	}
	return 0
}

// ReadHeader reads an .npy header from r, leaving r at the first byte of
// the data. An error wraps ErrFormat for bytes that are not an .npy
// header, or io.ErrUnexpectedEOF for a truncated one; end of input before
// the first byte is io.EOF.
func ReadHeader(r io.Reader) (Header, error) {
	var lead [10]byte
	if n, err := io.ReadFull(r, lead[:8]); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return Header{}, io.EOF
		}
		return Header{}, fmt.Errorf("%w: %d bytes, then the end: %w", ErrFormat, n, io.ErrUnexpectedEOF)
	}
	if string(lead[:6]) != Magic {
		return Header{}, fmt.Errorf("%w: it starts with %s, not the .npy magic", ErrFormat, quoteStart(lead[:8]))
	}
	major := lead[6]
	var size, offset int
	switch major {
	case 1:
		if _, err := io.ReadFull(r, lead[8:10]); err != nil {
			return Header{}, fmt.Errorf("%w: truncated header: %w", ErrFormat, io.ErrUnexpectedEOF)
		}
		size, offset = int(binary.LittleEndian.Uint16(lead[8:10])), 10
	case 2, 3:
		var four [4]byte
		if _, err := io.ReadFull(r, four[:]); err != nil {
			return Header{}, fmt.Errorf("%w: truncated header: %w", ErrFormat, io.ErrUnexpectedEOF)
		}
		n := binary.LittleEndian.Uint32(four[:])
		if n > MaxHeader {
			return Header{}, fmt.Errorf("%w: a header of %d bytes", ErrFormat, n)
		}
		size, offset = int(n), 12
	default:
		return Header{}, fmt.Errorf("%w: format version %d.%d", ErrFormat, major, lead[7])
	}
	dict := make([]byte, size)
	if _, err := io.ReadFull(r, dict); err != nil {
		return Header{}, fmt.Errorf("%w: truncated header: %w", ErrFormat, io.ErrUnexpectedEOF)
	}
	h, err := parseDict(string(dict))
	if err != nil {
		return Header{}, fmt.Errorf("%w: header %q: %w", ErrFormat, strings.TrimSpace(string(dict)), err)
	}
	h.Size = offset + size
	return h, nil
}

// quoteStart quotes the first bytes of something that should have been an
// .npy header, for a message: a program that prints to its stdout shows
// its words here.
func quoteStart(b []byte) string {
	return strconv.Quote(string(b))
}

// parseDict parses the header dictionary, such as
// "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }".
func parseDict(s string) (Header, error) {
	s = strings.TrimRight(s, " \n\x00")
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return Header{}, errors.New("not a dictionary")
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	var h Header
	seen := map[string]bool{}
	for s != "" {
		key, rest, ok := quoted(s)
		if !ok {
			return Header{}, errors.New("a key that is not a string")
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return Header{}, fmt.Errorf("no value for %q", key)
		}
		rest = strings.TrimSpace(rest[1:])
		if seen[key] {
			return Header{}, fmt.Errorf("%q twice", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			v, after, ok := quoted(rest)
			if !ok {
				return Header{}, errors.New("descr is not a plain dtype string (a structured array?)")
			}
			h.Descr, rest = v, after
		case "fortran_order":
			switch {
			case strings.HasPrefix(rest, "True"):
				h.Fortran, rest = true, rest[4:]
			case strings.HasPrefix(rest, "False"):
				rest = rest[5:]
			default:
				return Header{}, errors.New("fortran_order is neither True nor False")
			}
		case "shape":
			if !strings.HasPrefix(rest, "(") {
				return Header{}, errors.New("shape is not a tuple")
			}
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return Header{}, errors.New("shape is not a tuple")
			}
			for _, f := range strings.Split(rest[1:end], ",") {
				f = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "L"))
				if f == "" {
					continue
				}
				d, err := strconv.Atoi(f)
				if err != nil || d < 0 || d > 1<<40 {
					return Header{}, fmt.Errorf("shape dimension %q", f)
				}
				h.Shape = append(h.Shape, d)
			}
			rest = rest[end+1:]
		default:
			return Header{}, fmt.Errorf("unknown key %q", key)
		}
		rest = strings.TrimSpace(rest)
		rest = strings.TrimPrefix(rest, ",")
		s = strings.TrimSpace(rest)
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return Header{}, errors.New("descr, fortran_order and shape are not all given")
	}
	return h, nil
}

// quoted reads a Python string literal in single or double quotes (no
// escapes: dtype strings and keys have none) at the start of s.
func quoted(s string) (v, rest string, ok bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", s, false
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", s, false
	}
	return s[1 : 1+end], s[2+end:], true
}

// AppendHeader appends a version 1.0 header of a C-order array of descr
// and shape to b, padded with spaces so that the data starts at a
// multiple of 64 bytes, as NumPy writes it.
func AppendHeader(b []byte, descr string, shape []int) []byte {
	var dict strings.Builder
	fmt.Fprintf(&dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr)
	for i, d := range shape {
		if i > 0 {
			dict.WriteString(", ")
		}
		dict.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		dict.WriteString(",")
	}
	dict.WriteString("), }")
	n := 10 + dict.Len() + 1
	pad := (64 - n%64) % 64
	b = append(b, Magic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(dict.Len()+pad+1))
	b = append(b, dict.String()...)
	for range pad {
		b = append(b, ' ')
	}
	return append(b, '\n')
}
