// Package dataset generates the colored-shapes dataset, whose factors of
// variation (shape, hue, saturation, value, size, location, rotation) are
// known for every image, and provides the augmentations that make positive
// pairs for contrastive training.
//
// # Basics
//
// A dataset is described by a Spec ("shapes:n=64000,seed=1,res=64"). Item i of
// a spec depends only on the seed and i, so items can be made one at a time,
// in any order, on any number of cores. On disk a dataset is a folder of PNG
// files with a factors.csv that lists, for each image, its split, every factor
// and every label.
//
// # Caveats
//
// Factor values that are lengths (radius, centre) are in pixels of the
// dataset's resolution; the ranges of the specification are given at 64
// pixels and scale with the resolution.
package dataset
