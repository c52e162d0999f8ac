#!/usr/bin/python3
"""Train the seed's network in PyTorch, save its state_dict for
"simsearch import", and check that simsearch embeds as PyTorch does.

    /usr/bin/python3 bench/torch_import.py train --res 32 --out torch.safetensors
    simsearch import --torch torch.safetensors --objective contrastive \\
        --res 32 --width 32 --latent 128 --aug A --out enc.safetensors
    go run ./bench/interop -model enc.safetensors -data shapes:n=64,seed=9,res=32 -out /tmp/interop
    /usr/bin/python3 bench/torch_import.py check torch.safetensors /tmp/interop

train: InfoNCE (τ = 0.07) on random images with a colour-jitter positive
(each pair differs by a random per-channel gain and offset), Adam 2e-4,
for --steps steps; saves {"encoder.<name>": tensor} with
safetensors.torch.save_file when the safetensors package is installed, or
else with a standard-library writer of the same format.

check: loads the saved state_dict into bench/torch_train.py's Encoder,
embeds the images bench/interop wrote (values in [0, 1], as simsearch
feeds its networks), and compares with simsearch's embeddings of them by
the imported checkpoint: the largest absolute difference must be below
1e-5. It is a peer check, never run by CI.
"""
import argparse
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import Encoder  # noqa: E402


def save_file(tensors, path):
    try:
        from safetensors.torch import save_file as st_save  # noqa: PLC0415
        st_save(tensors, path)
        return "safetensors.torch.save_file"
    except ImportError:
        pass
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    return "the standard-library safetensors writer (no safetensors package)"


def load_file(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    data = blob[8 + n:]
    out = {}
    for name, t in header.items():
        lo, hi = t["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[lo:hi]), dtype=torch.float32).reshape(t["shape"])
    return out


def train(a):
    torch.manual_seed(a.seed)
    enc = Encoder(a.res, a.width, a.latent)
    opt = torch.optim.Adam(enc.parameters(), lr=2e-4)
    target = torch.arange(a.batch)
    for step in range(a.steps):
        x = torch.rand(a.batch, 3, a.res, a.res)
        gain = 0.7 + 0.6 * torch.rand(a.batch, 3, 1, 1)
        shift = 0.1 * (torch.rand(a.batch, 3, 1, 1) - 0.5)
        y = (x * gain + shift).clamp(0, 1)
        z1, z2 = F.normalize(enc(x), dim=1), F.normalize(enc(y), dim=1)
        loss = F.cross_entropy(z1 @ z2.T / 0.07, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 50 == 0:
            print(f"step {step + 1}: loss {loss.item():.4f}", file=sys.stderr)
    how = save_file({"encoder." + k: v for k, v in enc.state_dict().items()}, a.out)
    print(f"wrote {a.out} with {how}")


def check(a):
    state = {k[len("encoder."):]: v for k, v in load_file(a.torch).items()}
    meta = a.res, a.width, a.latent
    images = torch.frombuffer(bytearray(open(a.prefix + ".images.f32", "rb").read()), dtype=torch.float32)
    res = a.res or int(round((images.numel() // 3 // a.n) ** 0.5))
    enc = Encoder(res, meta[1], meta[2])
    enc.load_state_dict(state, strict=True)
    images = images.reshape(-1, res, res, 3).permute(0, 3, 1, 2).contiguous()
    want = torch.frombuffer(bytearray(open(a.prefix + ".embeddings.f32", "rb").read()), dtype=torch.float32)
    want = want.reshape(images.shape[0], -1)
    with torch.no_grad():
        got = F.normalize(enc(images), dim=1)
    diff = (got - want).abs().max().item()
    print(f"{images.shape[0]} images of {res} px: largest absolute difference {diff:.2e} (PyTorch {torch.__version__}, {torch.get_num_threads()} threads)")
    if diff > 1e-5:
        sys.exit("embeddings differ by more than 1e-5")
    print("simsearch embeds the imported weights as PyTorch does, within 1e-5")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--res", type=int, default=32)
    t.add_argument("--width", type=int, default=32)
    t.add_argument("--latent", type=int, default=128)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--steps", type=int, default=200)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--out", default="torch.safetensors")
    c = sub.add_parser("check")
    c.add_argument("torch")
    c.add_argument("prefix")
    c.add_argument("--res", type=int, default=0, help="default: from the images and --n")
    c.add_argument("--n", type=int, default=64, help="number of images bench/interop wrote")
    c.add_argument("--width", type=int, default=32)
    c.add_argument("--latent", type=int, default=128)
    a = p.parse_args()
    torch.set_num_threads(2)
    train(a) if a.cmd == "train" else check(a)


if __name__ == "__main__":
    main()
