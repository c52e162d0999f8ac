package encoder

import (
	"fmt"
	"strings"
)

// Objective is what a model was trained for, or which untrained baseline
// it is. Every model, trained or not, embeds images the same way.
type Objective string

// The objectives and baselines.
const (
	// Autoencoder trains the encoder with a mirrored decoder to minimize the
	// mean squared error of the reconstruction.
	Autoencoder Objective = "autoencoder"
	// Contrastive trains the encoder with InfoNCE: for a batch of images x
	// and positives x⁺ made by an augmentation, logits f(x)·f(x⁺)ᵀ/τ of
	// L2-normalized outputs, cross-entropy against the diagonal, the other
	// images of the batch being the negatives.
	Contrastive Objective = "contrastive"
	// Supervised trains the encoder and a linear head with cross-entropy on
	// one factor label.
	Supervised Objective = "supervised"
	// DualEncoder trains the encoder f₁ and learned class embeddings f₂(c)
	// (one vector per class of one factor label) with InfoNCE over the
	// classes: logits f₁(x)·f₂(c) of the L2-normalized output against every
	// class embedding, cross-entropy against the image's class. The class
	// embeddings are free vectors, so their norms act as the inverse
	// temperature. Supervised cross-entropy is the special case of f₂(c) =
	// e_c (one-hot) on logits g(x).
	DualEncoder Objective = "dual-encoder"
	// Pixels is the untrained baseline of average-pooled raw pixels.
	Pixels Objective = "pixels"
	// Random is the untrained baseline of a randomly initialized encoder.
	Random Objective = "random"
)

// Objectives lists the trained objectives; Baselines the untrained ones.
var (
	Objectives = []Objective{Autoencoder, Contrastive, Supervised, DualEncoder}
	Baselines  = []Objective{Pixels, Random}
)

// Trained tells whether o is learned by training (not a baseline).
func (o Objective) Trained() bool {
	return o == Autoencoder || o == Contrastive || o == Supervised || o == DualEncoder
}

// Classifies tells whether o learns to classify one factor label
// (supervised or dual-encoder), with a head of one output per class.
func (o Objective) Classifies() bool { return o == Supervised || o == DualEncoder }

// ParseObjective parses an objective or baseline name.
func ParseObjective(s string) (Objective, error) {
	o := Objective(strings.ToLower(strings.TrimSpace(s)))
	switch o {
	case Autoencoder, Contrastive, Supervised, DualEncoder, Pixels, Random:
		return o, nil
	}
	return "", fmt.Errorf("unknown objective %q (want autoencoder, contrastive, supervised or dual-encoder, or the baselines pixels and random)", s)
}
