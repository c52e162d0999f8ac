// Package encoder holds the image encoders of simsearch: the convolutional
// network of the seed experiment built on gorgonia.org/gorgonia, its
// objectives (autoencoder, contrastive InfoNCE, supervised), the training
// loop, self-describing safetensors checkpoints, and the untrained baselines
// (raw pixels and a randomly initialized network).
//
// # Basics
//
// Train a model on the training split of a dataset, save it, and embed
// images with it:
//
//	data, err := encoder.LoadTrainingSet(ctx, "shapes:n=3200,seed=1,res=32")
//	opts := encoder.DefaultTrainOptions() // contrastive, augmentation A
//	opts.Data, opts.Batch = data, 64
//	model, err := encoder.Train(ctx, opts)
//	err = model.Save("enc-A.safetensors")
//	vectors, err := model.NewEmbedder(encoder.EmbedOptions{}).Embed(ctx, images)
//
// A Model is the same kind of value whether it was trained, decoded from
// checkpoint bytes (Decode, Load) or made by NewBaseline: every model turns
// images of its resolution into L2-normalized vectors of Dim values. Its
// checkpoint bytes (Bytes) are a safetensors file whose tensors have the
// names and layouts of the equivalent PyTorch module (see
// bench/check_checkpoint.py) and whose metadata records the architecture
// and how the model was trained (Info). ID is the model's identity: a
// SHA-256 of what decides its vectors (architecture, input preprocessing,
// encoder weights), so that a model retrained to the same weights keeps it.
//
// Every Model is an Encoder, the interface the rest of simsearch embeds
// with; encoders whose weights are not simsearch's implement it too:
//
//   - Command runs any model in another program (PyTorch, any
//     architecture) behind a small protocol over its stdin and stdout:
//     length-prefixed .npy frames of uint8 images in, float32 vectors out.
//     Its identity is a fingerprint, its vectors of a fixed set of
//     generated images, compared within FingerprintTolerance; a space stores
//     its spec (IsCommandSpec, OpenCommand) instead of a checkpoint.
//   - ImportTorch turns a PyTorch state_dict of the seed's network into a
//     Model.
//   - Precomputed stands for vectors made elsewhere: it embeds nothing
//     (ErrNoEncoder).
//
// # Speed
//
// gorgonia builds the graph, differentiates it and runs it on its tape
// machine, but the layers are this package's own ops: convolutions over
// NHWC tensors as one im2col matrix product per batch, with buffers kept
// from one step to the next, and matrix products by internal/gemm, which
// has AVX-512 and AVX2/FMA kernels. Adam runs in one pass per parameter. A
// training step of 32 images or more runs as two lanes (lanes.go): graphs
// over the same weights, each on half the batch and its share of the
// cores, which pack each layer's weights once a step for both, meet once
// at InfoNCE's embeddings and add their weight gradients at the end. Training uses every core and is deterministic given
// the seed, whatever the number of cores: the lanes depend on the batch
// only.
//
// # Caveats
//
// A graph has a fixed batch size: training runs each epoch's last, partial
// batch on graphs of its own (or drops it, with DropLast), and an Embedder keeps one graph per batch size it has used, per
// goroutine that used it at once. Embeddings of the same image are equal
// whatever the batch it was embedded in.
package encoder
