#!/usr/bin/python3
"""PyTorch peer of simsearch's encoder training benchmark.

Trains the same network as simsearch's encoder package (convolutions with
kernel 4, stride 2, padding 1 and ReLU down to 1x1, a linear layer, L2
normalisation; the autoencoder's decoder made of 3x3 convolutions to 4C
channels followed by depth-to-space) on the same batch sizes, with Adam, and
reports training throughput: pairs/s for InfoNCE, images/s for the
autoencoder and for supervised cross-entropy on 8 classes. Images are random tensors: this measures forward + backward +
Adam only, as the Go benchmarks do. The objective "embed" measures
embedding instead (the encoder and the L2 normalisation under no_grad,
images/s), as the Go BenchmarkEmbed does.

Run with Debian's python3-torch:

    /usr/bin/python3 bench/torch_train.py            # all sizes
    /usr/bin/python3 bench/torch_train.py --res 32 --batch 64 --objective contrastive
    /usr/bin/python3 bench/torch_train.py --objective embed --res 32 --batch 64

It is a peer for comparison and is never run by CI.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def channels(res, width, latent):
    n = int(math.log2(res))
    return [3] + [width << i for i in range(n - 1)] + [latent]


class Encoder(nn.Module):
    def __init__(self, res, width, latent):
        super().__init__()
        ch = channels(res, width, latent)
        self.convs = nn.ModuleList(
            nn.Conv2d(ch[i], ch[i + 1], 4, 2, 1) for i in range(len(ch) - 1))
        self.linear = nn.Linear(latent, latent)

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        return self.linear(x.flatten(1))


class Decoder(nn.Module):
    def __init__(self, res, width, latent):
        super().__init__()
        ch = channels(res, width, latent)
        self.latent = latent
        self.linear = nn.Linear(latent, latent)
        self.convs = nn.ModuleList(
            nn.Conv2d(ch[i + 1], 4 * ch[i], 3, 1, 1) for i in reversed(range(len(ch) - 1)))

    def forward(self, z):
        x = F.relu(self.linear(z)).view(-1, self.latent, 1, 1)
        for i, conv in enumerate(self.convs):
            x = F.pixel_shuffle(conv(x), 2)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x


def measure_embed(res, batch, width, latent, seconds):
    torch.manual_seed(1)
    enc = Encoder(res, width, latent).eval()
    x = torch.rand(batch, 3, res, res)

    def step():
        with torch.no_grad():
            return F.normalize(enc(x), dim=1)

    for _ in range(3):
        step()
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start
    return steps * batch / elapsed


def measure(objective, res, batch, width, latent, seconds, tau):
    if objective == "embed":
        return measure_embed(res, batch, width, latent, seconds)
    torch.manual_seed(1)
    enc = Encoder(res, width, latent)
    params = list(enc.parameters())
    dec = head = None
    if objective == "autoencoder":
        dec = Decoder(res, width, latent)
        params += list(dec.parameters())
    if objective == "supervised":
        head = nn.Linear(latent, 8)
        params += list(head.parameters())
    opt = torch.optim.Adam(params, lr=2e-4)
    x1 = torch.rand(batch, 3, res, res)
    x2 = torch.rand(batch, 3, res, res)
    target = torch.arange(batch)
    labels = torch.randint(0, 8, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        if objective == "contrastive":
            z1 = F.normalize(enc(x1), dim=1)
            z2 = F.normalize(enc(x2), dim=1)
            loss = F.cross_entropy(z1 @ z2.T / tau, target)
        elif objective == "supervised":
            loss = F.cross_entropy(head(enc(x1)), labels)
        else:
            loss = F.mse_loss(dec(enc(x1)), x1)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start
    return steps * batch / elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--objective", choices=["contrastive", "autoencoder", "supervised", "embed"], action="append")
    p.add_argument("--res", type=int, action="append")
    p.add_argument("--batch", type=int, action="append")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--latent", type=int, default=128)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--tau", type=float, default=0.07)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, width {a.width}, latent {a.latent}")
    for objective in a.objective or ["contrastive", "autoencoder", "supervised"]:
        unit = "pairs/s" if objective == "contrastive" else "images/s"
        for res in a.res or [32, 64]:
            for batch in a.batch or [64, 256]:
                rate = measure(objective, res, batch, a.width, a.latent, a.seconds, a.tau)
                print(f"{objective:12s} res {res:3d} batch {batch:4d}: {rate:8.1f} {unit}", flush=True)


if __name__ == "__main__":
    main()
