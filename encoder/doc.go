// Package encoder holds the image encoders of simsearch: the convolutional
// network of the seed experiment built on gorgonia.org/gorgonia, its
// objectives (autoencoder, contrastive InfoNCE, supervised), the training
// loop, self-describing safetensors checkpoints, and the untrained baselines
// (raw pixels and a randomly initialized network).
package encoder
