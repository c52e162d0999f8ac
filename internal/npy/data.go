package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// ReadFloat32s reads the data of a 1-D or 2-D array of float16, float32
// or float64 values (either byte order) that h describes, from r, and
// returns it as float32 values in row-major (C) order. Values are
// converted as NumPy's astype(np.float32) does, overflowing ones to
// infinity; the caller checks for values that are not finite.
func ReadFloat32s(r io.Reader, h Header) ([]float32, error) {
	size := ItemSize(h.Descr)
	if size < 2 || h.Descr[1] != 'f' {
		return nil, fmt.Errorf("%w: dtype %q, want float32 (or float16, float64)", ErrFormat, h.Descr)
	}
	if len(h.Shape) > 2 {
		return nil, fmt.Errorf("%w: %d dimensions, want at most 2", ErrFormat, len(h.Shape))
	}
	n := h.Len()
	if n < 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: shape %v is too large", ErrFormat, h.Shape)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if h.Descr[0] == '>' {
		order = binary.BigEndian
	}
	out := make([]float32, n)
	buf := make([]byte, 64<<10-(64<<10)%size)
	for done := 0; done < n; {
		chunk := buf[:min(len(buf), (n-done)*size)]
		if _, err := io.ReadFull(r, chunk); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("data of %d values ends after %d: %w", n, done, err)
		}
		for i := 0; i < len(chunk); i += size {
			var v float32
			switch size {
			case 2:
				v = Float16(order.Uint16(chunk[i:]))
			case 4:
				v = math.Float32frombits(order.Uint32(chunk[i:]))
			case 8:
				v = float32(math.Float64frombits(order.Uint64(chunk[i:])))
			}
			out[done] = v
			done++
		}
	}
	if h.Fortran && len(h.Shape) == 2 {
		rows, cols := h.Shape[0], h.Shape[1]
		c := make([]float32, n)
		for j := range cols {
			for i := range rows {
				c[i*cols+j] = out[j*rows+i]
			}
		}
		out = c
	}
	return out, nil
}

// Float16 returns the float32 value of IEEE 754 half-precision bits.
func Float16(b uint16) float32 {
	sign := uint32(b>>15) << 31
	exp := uint32(b>>10) & 0x1f
	frac := uint32(b) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalize
		e := uint32(127 - 15 + 1)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
