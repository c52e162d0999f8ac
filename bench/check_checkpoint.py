#!/usr/bin/python3
"""Check that PyTorch reads a simsearch checkpoint as simsearch does.

Reads the safetensors file with nothing but the standard library and torch
(the format is an 8-byte little-endian header length, a JSON header naming
each tensor's dtype, shape and byte range plus a "__metadata__" map, then the
raw data), loads the weights into the identical PyTorch encoder of
bench/torch_train.py with load_state_dict(strict=True), embeds the images
that bench/interop wrote, and compares with simsearch's embeddings.

    go run ./bench/interop -model enc.safetensors -out /tmp/interop
    /usr/bin/python3 bench/check_checkpoint.py enc.safetensors /tmp/interop

It is a peer check, never run by CI.
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import Decoder, Encoder  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = blob[8 + n:]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", (name, t["dtype"])
        lo, hi = t["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[lo:hi]), dtype=torch.float32).reshape(t["shape"])
    return meta, tensors


def main():
    path, prefix = sys.argv[1], sys.argv[2]
    meta, tensors = read_safetensors(path)
    print("metadata:", json.dumps(meta, sort_keys=True))
    res, width, latent = int(meta["res"]), int(meta["width"]), int(meta["latent"])
    enc = Encoder(res, width, latent)
    state = {k[len("encoder."):]: v for k, v in tensors.items() if k.startswith("encoder.")}
    enc.load_state_dict(state, strict=True)
    # The decoder and the classification head load into their PyTorch
    # modules too (strict: every name and shape must match).
    if meta["objective"] == "autoencoder":
        dec = Decoder(res, width, latent)
        dec.load_state_dict({k[len("decoder."):]: v for k, v in tensors.items() if k.startswith("decoder.")}, strict=True)
        print("decoder loaded")
    if meta["objective"] == "supervised":
        head = torch.nn.Linear(latent, int(meta["classes"]))
        head.load_state_dict({k[len("head."):]: v for k, v in tensors.items() if k.startswith("head.")}, strict=True)
        print("head loaded")
    images = torch.frombuffer(bytearray(open(prefix + ".images.f32", "rb").read()), dtype=torch.float32)
    images = images.reshape(-1, res, res, 3).permute(0, 3, 1, 2).contiguous()
    want = torch.frombuffer(bytearray(open(prefix + ".embeddings.f32", "rb").read()), dtype=torch.float32)
    want = want.reshape(images.shape[0], -1)
    with torch.no_grad():
        got = F.normalize(enc(images), dim=1)
    diff = (got - want).abs().max().item()
    cos = (got * want).sum(1).min().item()
    print(f"{images.shape[0]} images: largest difference {diff:.2e}, smallest cosine {cos:.6f}")
    if diff > 1e-4:
        sys.exit("embeddings differ")
    print("PyTorch reads the checkpoint as simsearch does")


if __name__ == "__main__":
    main()
