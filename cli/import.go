package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"simsearch/encoder"
)

func newImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "turn PyTorch weights of simsearch's network into a checkpoint",
		ArgsUsage: " ",
		Description: `Reads a PyTorch state_dict saved with safetensors.torch.save_file (--torch)
of the seed's network — the Encoder of bench/torch_train.py (convolutions of
kernel 4, stride 2 down to 1×1, a linear layer), with its Decoder for the
autoencoder or a linear "head" for supervised training — and writes a
simsearch checkpoint (--out) that ingest, query and report use like one
trained here. The architecture is given by --res, --width and --latent;
every tensor's name and shape is checked, and the first that is missing,
extra or of another shape is named (exit code 3).

Tensor names: encoder.convs.0.weight … encoder.linear.bias (or the Encoder
module's own names, convs.0.weight …), decoder.* and head.*; a "module."
prefix is dropped. --input says what the network was fed, channels first:
unit, RGB values in [0, 1] (ToTensor alone), or centered, [-1, 1]
(ToTensor then Normalize(0.5, 0.5), what "train" feeds by default); the
checkpoint records it and feeds the network the same. Any other
architecture or normalization: use an encoder command (ingest --encoder-cmd).

Example:
   python3 bench/torch_import.py --out torch.safetensors
   simsearch import --torch torch.safetensors --objective contrastive --res 32 --width 32 --latent 128 --out enc.safetensors`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "torch", Usage: "safetensors `FILE` of the PyTorch state_dict (required)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "checkpoint `FILE` to write (required)"},
			&cli.StringFlag{Name: "objective", Usage: "what the network was trained for: contrastive, autoencoder, supervised or random (required)"},
			&cli.IntFlag{Name: "res", Usage: "side of the images, a power of two (required)"},
			&cli.IntFlag{Name: "width", Value: 32, Usage: "channels of the first convolution"},
			&cli.IntFlag{Name: "latent", Value: 128, Usage: "size of the embedding"},
			&cli.IntFlag{Name: "classes", Usage: "classes of a supervised head (default: from head.weight)"},
			&cli.StringFlag{Name: "label", Usage: "label a supervised network classifies (for reports)"},
			&cli.StringFlag{Name: "aug", Usage: "augmentation a contrastive network was trained with (for reports, and the report's orbits)"},
			&cli.Float64Flag{Name: "tau", Usage: "InfoNCE temperature of a contrastive network, for reports (default: 0.07)"},
			&cli.StringFlag{Name: "data", Usage: "what the network was trained on (for reports)"},
			&cli.StringFlag{Name: "input", Value: "unit", Usage: "the network's input: unit (RGB in [0, 1], ToTensor) or centered ([-1, 1], Normalize(0.5, 0.5))"},
		},
		Action: runImport,
	}
}

func runImport(c *cli.Context) error {
	o := newOutput(c)
	switch {
	case c.NArg() > 0:
		return usagef("import takes no arguments, only flags")
	case c.String("torch") == "" || c.String("out") == "":
		return usagef("import needs --torch, the PyTorch weights, and --out, the checkpoint to write")
	case c.String("objective") == "":
		return usagef("import needs --objective: contrastive, autoencoder, supervised or random")
	case !c.IsSet("res"):
		return usagef("import needs --res, the side of the network's images")
	}
	objective, err := encoder.ParseObjective(c.String("objective"))
	if err != nil {
		return usagef("--objective: %v", err)
	}
	b, err := os.ReadFile(c.String("torch"))
	if err != nil {
		return err
	}
	m, err := encoder.ImportTorch(b, encoder.ImportOptions{
		Objective: objective, Res: c.Int("res"), Width: c.Int("width"), Latent: c.Int("latent"), Classes: c.Int("classes"),
		Label: c.String("label"), Augmentation: c.String("aug"), Tau: c.Float64("tau"), Data: c.String("data"), Input: c.String("input"),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", c.String("torch"), err)
	}
	if err := m.Save(c.String("out")); err != nil {
		return err
	}
	res := struct {
		Out     string       `json:"out"`
		ID      string       `json:"id"`
		Encoder encoder.Info `json:"encoder"`
		Params  int          `json:"params"`
	}{c.String("out"), m.ID(), m.Info(), m.Params()}
	return o.result("import", res, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "wrote %s: %v, %d parameters (id %.12s)\n", res.Out, m, res.Params, res.ID)
		return err
	})
}
