#!/usr/bin/env python3
"""simsearch encoder command for any PyTorch model.

Wraps a torch.nn.Module in simsearch's encoder command protocol: simsearch
starts this program once and, for each batch, writes to its stdin a frame
holding uint8 images (N, H, W, 3) and reads from its stdout a frame holding
float32 vectors (N, D). A frame is an 8-byte little-endian length followed
by an .npy file.

The model is one of:

  --model FILE            a TorchScript file (torch.jit.save) or a whole
                          pickled module (torch.save(model)), or
  --module FILE.py:NAME   a Python file and the name of a class or function
  [--weights FILE]        in it that returns the module, with a state_dict
                          (torch.save(model.state_dict()) or .safetensors)

Images reach the model as float32 tensors (N, 3, H, W) with values in
[0, 1] (as torchvision's ToTensor gives), then normalized with --mean and
--std when given (e.g. --mean 0.5 0.5 0.5 --std 0.5 0.5 0.5 for inputs in
[-1, 1], or ImageNet's). If the model returns a tuple or a dict, --output
picks the embedding; a 4-D output is averaged over its spatial dimensions.

    simsearch ingest --db shapes.db --space mine --res 64 \\
        --encoder-cmd "python3 examples/embed_torch.py --model model.pt" shapes64

Logs go to stderr (simsearch passes them through); stdout carries frames
only. It is run by simsearch, not by CI.
"""
import argparse
import importlib.util
import io
import sys

import numpy as np
import torch


def read_frame(stream):
    head = stream.read(8)
    if len(head) < 8:
        return None  # simsearch closed stdin: we are done
    return np.load(io.BytesIO(stream.read(int.from_bytes(head, "little"))))


def write_frame(stream, array):
    buf = io.BytesIO()
    np.save(buf, array)
    stream.write(len(buf.getbuffer()).to_bytes(8, "little"))
    stream.write(buf.getbuffer())
    stream.flush()


def load_module(spec, weights):
    path, _, name = spec.rpartition(":")
    if not path or not name:
        sys.exit(f"embed_torch: --module wants FILE.py:NAME, not {spec!r}")
    loader = importlib.util.spec_from_file_location("user_model", path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    model = getattr(module, name)()
    if weights:
        if weights.endswith(".safetensors"):
            from safetensors.torch import load_file  # noqa: PLC0415
            state = load_file(weights)
        else:
            state = torch.load(weights, map_location="cpu")
        model.load_state_dict(state)
    return model


def load_model(args):
    if args.module:
        return load_module(args.module, args.weights)
    try:
        return torch.jit.load(args.model, map_location=args.device)
    except (RuntimeError, ValueError):
        return torch.load(args.model, map_location=args.device, weights_only=False)


def pick(output, key):
    if isinstance(output, dict):
        return output[key if key is not None else next(iter(output))]
    if isinstance(output, (tuple, list)):
        return output[int(key) if key is not None else 0]
    return output


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help="TorchScript or pickled module file")
    p.add_argument("--module", help="FILE.py:NAME returning the module")
    p.add_argument("--weights", help="state_dict for --module")
    p.add_argument("--mean", type=float, nargs=3, help="per-channel mean subtracted from [0, 1] inputs")
    p.add_argument("--std", type=float, nargs=3, help="per-channel std the inputs are divided by")
    p.add_argument("--output", help="key or index of the embedding in a dict or tuple output")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    args = p.parse_args()
    if not args.model and not args.module:
        sys.exit("embed_torch: give --model FILE or --module FILE.py:NAME")
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args).to(args.device).eval()
    mean = std = None
    if args.mean:
        mean = torch.tensor(args.mean, device=args.device).view(1, 3, 1, 1)
    if args.std:
        std = torch.tensor(args.std, device=args.device).view(1, 3, 1, 1)
    print(f"embed_torch: {type(model).__name__} on {args.device}, ready", file=sys.stderr, flush=True)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    with torch.inference_mode():
        while (images := read_frame(stdin)) is not None:
            x = torch.from_numpy(images).to(args.device).permute(0, 3, 1, 2).float().div_(255)
            if mean is not None:
                x = x - mean
            if std is not None:
                x = x / std
            z = pick(model(x), args.output)
            if z.dim() == 4:
                z = z.mean(dim=(2, 3))
            write_frame(stdout, z.flatten(1).float().cpu().numpy())


if __name__ == "__main__":
    main()
