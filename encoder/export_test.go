package encoder

import "image"

// ImageFrameForTest returns the frame that carries images to a command.
func ImageFrameForTest(images []*image.RGBA) []byte { return appendImageFrame(nil, images) }
