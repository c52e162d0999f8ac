package encoder

import (
	"fmt"
	"math/bits"
)

// Arch is the shape of the seed's convolutional encoder: convolutions with
// kernel 4, stride 2 and padding 1, each followed by a ReLU, halve the
// resolution down to 1×1 (at 64 px: 3→32→64→128→256→512→latent channels);
// then a linear layer latent→latent. The decoder of the autoencoder mirrors
// it: a linear layer and ReLU, then per level a 3×3 convolution to 4× the
// channels and a depth-to-space step that doubles the resolution.
type Arch struct {
	// Res is the width and height of the input images in pixels, a power
	// of two from 4 to 512.
	Res int
	// Width is the number of channels of the first convolution; each next
	// one doubles it, the last outputs Latent.
	Width int
	// Latent is the size of the encoder's output.
	Latent int
}

// Limits of an Arch, so that a typing mistake is an error rather than a
// network that fills the memory.
const (
	MinRes    = 4
	MaxRes    = 512
	MaxWidth  = 1024
	MaxLatent = 8192
)

// Validate returns an error that says what is wrong with a, or nil.
func (a Arch) Validate() error {
	switch {
	case a.Res < MinRes || a.Res > MaxRes || bits.OnesCount(uint(a.Res)) != 1:
		return fmt.Errorf("resolution %d: it must be a power of two from %d to %d", a.Res, MinRes, MaxRes)
	case a.Width < 1 || a.Width > MaxWidth:
		return fmt.Errorf("width %d: it must be from 1 to %d", a.Width, MaxWidth)
	case a.Latent < 1 || a.Latent > MaxLatent:
		return fmt.Errorf("latent size %d: it must be from 1 to %d", a.Latent, MaxLatent)
	case a.Width<<(a.Layers()-2) > 1<<16:
		return fmt.Errorf("width %d at resolution %d makes layers of more than %d channels", a.Width, a.Res, 1<<16)
	}
	return nil
}

// Layers is the number of strided convolutions: log2(Res).
func (a Arch) Layers() int { return bits.Len(uint(a.Res)) - 1 }

// Channels returns the channels of the encoder from input to output:
// 3, Width, 2·Width, …, Latent (Layers()+1 values).
func (a Arch) Channels() []int {
	n := a.Layers()
	ch := make([]int, n+1)
	ch[0] = 3
	for i := 1; i < n; i++ {
		ch[i] = a.Width << (i - 1)
	}
	ch[n] = a.Latent
	return ch
}

// String returns a short description such as "res 32, width 32, latent 128".
func (a Arch) String() string {
	return fmt.Sprintf("res %d, width %d, latent %d", a.Res, a.Width, a.Latent)
}
