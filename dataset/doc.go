// Package dataset generates the colored-shapes dataset, whose factors of
// variation (shape, hue, saturation, value, size, location, rotation) are
// known for every image, and provides the augmentations that make positive
// pairs for contrastive training.
//
// # Basics
//
// A dataset is described by a Spec ("shapes:n=64000,seed=1,res=64,val=0.375").
// Item i of a spec depends only on the seed and i (Spec.Factors, Spec.Image),
// so items can be made one at a time, in any order, on any number of cores.
// The first N − round(N·ValFrac) items are for training, the rest for
// validation. Factors.Labels turns factors into the class labels of
// LabelNames; Vary makes items that differ from one item in one factor only.
//
// On disk a dataset is a folder (WriteFolder, ReadFolder) of PNG files named
// by index ("000017.png"), a factors.csv that lists, for each image, its
// split, every factor and every label, and a dataset.json holding the format
// version and the spec. dataset.json is written last and marks a complete
// folder.
//
// An Augmentation draws a random view of an image. ParseAugmentation reads
// the augmentations A (colour), B (location) and C (shape and location) of
// the specification, or pipelines of primitives such as
// "pad:24,rotate,crop:0.2-0.6" (see PrimitivesHelp). Geometric steps compose
// into one projective transform, sampled once per view with nearest
// neighbours and black fill; colour steps then act on the pixels.
//
// DecodeImage and LoadImage read images from outside (PNG, JPEG, GIF),
// refusing decompression bombs before decoding.
//
// # Caveats
//
// Factor values that are lengths (radius, centre) are in pixels of the
// dataset's resolution; the ranges of the specification are given at 64
// pixels and scale with the resolution, as do the pad lengths of
// augmentations.
//
// Colour steps keep the background black and never turn an object pixel
// black, so colour augmentations leave the silhouette unchanged; the mean
// gray of a contrast step is taken over the non-black pixels.
package dataset
