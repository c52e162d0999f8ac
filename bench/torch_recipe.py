#!/usr/bin/python3
"""PyTorch peer of a whole "simsearch train" run of contrastive training.

Reads the training split of a dataset folder that "simsearch generate"
writes (factors.csv and its PNGs), makes positive pairs with the SPEC's
augmentations A, B or C written in torch (each view drawn on its own; the
geometric steps composed into one projective map sampled with nearest
neighbours and black fill, then the colour steps in the SPEC's order,
clamped after each as torchvision clamps, acting on the object's non-black
pixels as simsearch's do), and trains bench/torch_train.py's Encoder with
InfoNCE (tau 0.07, in-batch negatives), torch.optim.Adam (lr 2e-4), batch
256, a fresh shuffle each epoch whose last partial batch is a step of its
own (DataLoader's default; --drop-last drops it), on pixels centred to
[-1, 1] (ToTensor, Normalize(0.5, 0.5); --input unit feeds [0, 1]).

It writes the encoder's state_dict as safetensors for "simsearch import
--torch ... --input centered", and the loss of every step as the same CSV
"simsearch train" writes (step,epoch,loss,images_per_second).

    /usr/bin/python3 bench/torch_recipe.py --data shapes32 --aug A --seed 1 \\
        --epochs 15 --out torch-A-1.safetensors

It is a peer for comparison and is never run by CI.
"""
import argparse
import csv
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_import import save_file  # noqa: E402
from torch_train import Encoder  # noqa: E402


# ---------------------------------------------------------------- data

def load_split(folder, split="train", limit=None):
    """Returns uint8 images (N, H, W, 3) of one split of a dataset folder,
    the first limit of them when limit is set."""
    images = []
    with open(os.path.join(folder, "factors.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["split"] != split:
                continue
            if limit is not None and len(images) == limit:
                break
            img = Image.open(os.path.join(folder, row["file"])).convert("RGB")
            images.append(np.asarray(img, dtype=np.uint8))
    return np.stack(images)


# ---------------------------------------------------------------- geometry
# A port of dataset/geometry.go: the forward map from the source image to
# the canvas, composed step by step, then inverted and sampled at the
# output's pixel centres.

def translation(dx, dy):
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], dtype=np.float64)


def scaling(sx, sy):
    return np.array([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], dtype=np.float64)


def about_centre(m, w, h):
    return translation(w / 2, h / 2) @ m @ translation(-w / 2, -h / 2)


def rotation(angle):
    s, c = math.sin(angle), math.cos(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)


def square_to_quad(q):
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = q
    sx, sy = x0 - x1 + x2 - x3, y0 - y1 + y2 - y3
    dx1, dx2, dy1, dy2 = x1 - x2, x3 - x2, y1 - y2, y3 - y2
    det = dx1 * dy2 - dx2 * dy1
    g = h = 0.0
    if det != 0:
        g = (sx * dy2 - dx2 * sy) / det
        h = (dx1 * sy - sx * dy1) / det
    return np.array([[x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
                     [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
                     [g, h, 1]], dtype=np.float64)


class Canvas:
    def __init__(self, res):
        self.src = float(res)
        self.w = self.h = float(res)
        self.forward = np.eye(3)

    def then(self, m, w, h):
        self.forward = m @ self.forward
        self.w, self.h = w, h

    def pad(self, px):
        d = px * self.src / 64
        self.then(translation(d, d), self.w + 2 * d, self.h + 2 * d)

    def rotate(self, rng, lo=0.0, hi=360.0):
        angle = rng.uniform(lo, hi)
        self.then(about_centre(rotation(angle * math.pi / 180), self.w, self.h), self.w, self.h)

    def affine(self, rng, translate, shear):
        tx = rng.uniform(-translate, translate) * self.w
        ty = rng.uniform(-translate, translate) * self.h
        shx = math.tan(rng.uniform(*shear) * math.pi / 180)
        shy = math.tan(rng.uniform(*shear) * math.pi / 180)
        m = np.array([[1, shx, 0], [shy, 1 + shx * shy, 0], [0, 0, 1]], dtype=np.float64)
        self.then(translation(tx, ty) @ about_centre(m, self.w, self.h), self.w, self.h)

    def perspective(self, rng, distortion):
        mx, my = distortion * self.w / 2, distortion * self.h / 2
        r = rng.random(8)
        q = [(mx * r[0], my * r[1]), (self.w - mx * r[2], my * r[3]),
             (self.w - mx * r[4], self.h - my * r[5]), (mx * r[6], self.h - my * r[7])]
        self.then(square_to_quad(q) @ scaling(1 / self.w, 1 / self.h), self.w, self.h)

    def crop(self, rng, area, aspect):
        total = self.w * self.h
        log_aspect = (math.log(aspect[0]), math.log(aspect[1]))
        found = False
        for _ in range(10):
            target = total * rng.uniform(*area)
            ratio = math.exp(rng.uniform(*log_aspect))
            w, h = math.sqrt(target * ratio), math.sqrt(target / ratio)
            if w <= self.w and h <= self.h:
                x0 = (self.w - w) * rng.random()
                y0 = (self.h - h) * rng.random()
                found = True
                break
        if not found:
            w, h = self.w, self.h
            ratio = self.w / self.h
            if ratio < aspect[0]:
                h = w / aspect[0]
            elif ratio > aspect[1]:
                w = h * aspect[1]
            x0, y0 = (self.w - w) / 2, (self.h - h) / 2
        self.then(scaling(self.src / w, self.src / h) @ translation(-x0, -y0), self.src, self.src)

    def inverse(self):
        forward = self.forward
        if self.w != self.src or self.h != self.src:
            forward = scaling(self.src / self.w, self.src / self.h) @ forward
        try:
            return np.linalg.inv(forward)
        except np.linalg.LinAlgError:
            return None


def geometry_B(c, rng):
    c.pad(24)
    c.rotate(rng)
    c.crop(rng, (0.2, 0.6), (1, 1))


def geometry_C(c, rng):
    c.pad(16)
    c.rotate(rng)
    if rng.random() < 0.7:
        c.affine(rng, 0.3, (-80, 80))
        c.perspective(rng, 0.6)
    c.crop(rng, (0.4, 0.8), (0.2, 5))
    c.rotate(rng)


def warp(images, inverses, res):
    """Samples each image (B, H, W, 3 uint8 tensor) through its inverse map
    at the output's pixel centres, nearest neighbour, black outside."""
    ys, xs = torch.meshgrid(torch.arange(res, dtype=torch.float64) + 0.5,
                            torch.arange(res, dtype=torch.float64) + 0.5, indexing="ij")
    ones = torch.ones_like(xs)
    grid = torch.stack([xs, ys, ones], dim=-1).reshape(-1, 3)  # (P, 3)
    inv = torch.from_numpy(np.stack(inverses))  # (B, 3, 3)
    uvw = torch.einsum("bij,pj->bpi", inv, grid)  # (B, P, 3)
    w = uvw[..., 2]
    sx, sy = uvw[..., 0] / w, uvw[..., 1] / w
    inside = (w > 0) & (sx >= 0) & (sy >= 0) & (sx < res) & (sy < res)
    ix = sx.clamp(0, res - 1).floor().long()
    iy = sy.clamp(0, res - 1).floor().long()
    flat = images.reshape(images.shape[0], res * res, 3)
    idx = (iy * res + ix).unsqueeze(-1).expand(-1, -1, 3)
    out = torch.gather(flat, 1, idx)
    out = torch.where(inside.unsqueeze(-1), out, torch.zeros_like(out))
    return out.reshape(images.shape)


# ---------------------------------------------------------------- colour
# A port of dataset/colour.go, batched: grayscale (p 0.2), then brightness,
# contrast (blend with the mean gray of the object's pixels), saturation and
# hue, clamped after each; black pixels stay black and a non-black pixel
# never rounds to black.

def luma(x):
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]


def rgb_to_hsv(x):
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v, _ = x.max(-1)
    mn, _ = x.min(-1)
    c = v - mn
    s = torch.where(v > 0, c / v.clamp_min(1e-12), torch.zeros_like(v))
    cz = c.clamp_min(1e-12)
    h = torch.where(v == r, ((g - b) / cz) % 6, torch.where(v == g, (b - r) / cz + 2, (r - g) / cz + 4)) / 6
    h = torch.where(c > 0, h, torch.zeros_like(h))
    return h, s, v


def hsv_to_rgb(h, s, v):
    h = 6 * (h - h.floor())
    sector = h.floor()
    f = h - sector
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    sector = sector.long() % 6
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    r = torch.zeros_like(v)
    g = torch.zeros_like(v)
    b = torch.zeros_like(v)
    for k, (cr, cg, cb) in enumerate(choices):
        m = sector == k
        r, g, b = torch.where(m, cr, r), torch.where(m, cg, g), torch.where(m, cb, b)
    return torch.stack([r, g, b], dim=-1)


def colour_A(images, gen):
    """images: (B, H, W, 3) uint8 tensor. Returns uint8."""
    x = images.double() / 255
    n = x.shape[0]
    obj = (images.amax(-1) > 0)  # (B, H, W) non-black pixels
    u = lambda lo, hi: (lo + (hi - lo) * torch.rand(n, generator=gen, dtype=torch.float64)).view(n, 1, 1, 1)
    gray_mask = (torch.rand(n, generator=gen, dtype=torch.float64) < 0.2).view(n, 1, 1, 1)
    bright, contrast, sat = u(0.7, 1.3), u(0.7, 1.3), u(0.1, 1.9)
    hue = u(-0.5, 0.5).view(n, 1, 1)
    y = luma(x).unsqueeze(-1)
    x = torch.where(gray_mask, y.expand_as(x), x)
    x = (x * bright).clamp(0, 1)
    count = obj.sum((1, 2)).clamp_min(1).double()
    mean = (luma(x) * obj).sum((1, 2)) / count
    x = (contrast * x + (1 - contrast) * mean.view(n, 1, 1, 1)).clamp(0, 1)
    y = luma(x).unsqueeze(-1)
    x = (sat * x + (1 - sat) * y).clamp(0, 1)
    h, s, v = rgb_to_hsv(x)
    turned = hsv_to_rgb(h + hue + 1, s, v)
    x = torch.where((s > 0).unsqueeze(-1), turned, x)
    out = (x * 255).round().to(torch.uint8)
    black = (out.amax(-1) == 0) & obj
    out = torch.where(black.unsqueeze(-1), torch.ones_like(out), out)
    return torch.where(obj.unsqueeze(-1), out, torch.zeros_like(out))


def augment(images, aug, rng, gen):
    """Draws one view of each image (B, H, W, 3 uint8)."""
    if aug == "A":
        return colour_A(images, gen)
    res = images.shape[1]
    geometry = {"B": geometry_B, "C": geometry_C}[aug]
    inverses = []
    for _ in range(images.shape[0]):
        c = Canvas(res)
        geometry(c, rng)
        inv = c.inverse()
        inverses.append(inv if inv is not None else np.full((3, 3), np.nan))
    return warp(images, inverses, res)


def to_input(images, scaling):
    x = images.permute(0, 3, 1, 2).float() / 255
    if scaling == "centered":
        x = (x - 0.5) / 0.5
    return x.contiguous()


# ---------------------------------------------------------------- training

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="dataset folder written by simsearch generate")
    p.add_argument("--aug", choices=["A", "B", "C"], default="A")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--tau", type=float, default=0.07)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--latent", type=int, default=128)
    p.add_argument("--input", choices=["centered", "unit"], default="centered")
    p.add_argument("--drop-last", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True, help="safetensors file of the encoder's state_dict")
    p.add_argument("--loss-csv", help="loss of every step (default: beside --out, .loss.csv)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)

    images = torch.from_numpy(load_split(a.data))
    n, res = images.shape[0], images.shape[1]
    enc = Encoder(res, a.width, a.latent)
    opt = torch.optim.Adam(enc.parameters(), lr=a.lr)
    loss_path = a.loss_csv or os.path.splitext(a.out)[0] + ".loss.csv"
    log = open(loss_path, "w")
    log.write("step,epoch,loss,images_per_second\n")
    step, seen, start = 0, 0, time.perf_counter()
    final = 0.0
    for epoch in range(1, a.epochs + 1):
        order = torch.randperm(n)
        batches = [order[i:i + a.batch] for i in range(0, n, a.batch)]
        if a.drop_last and len(batches[-1]) < a.batch:
            batches = batches[:-1]
        losses = []
        for idx in batches:
            x = images[idx]
            v1 = to_input(augment(x, a.aug, rng, gen), a.input)
            v2 = to_input(augment(x, a.aug, rng, gen), a.input)
            opt.zero_grad(set_to_none=True)
            z1 = F.normalize(enc(v1), dim=1)
            z2 = F.normalize(enc(v2), dim=1)
            loss = F.cross_entropy(z1 @ z2.T / a.tau, torch.arange(len(idx)))
            loss.backward()
            opt.step()
            step += 1
            seen += len(idx)
            losses.append(loss.item())
            rate = seen / (time.perf_counter() - start)
            log.write(f"{step},{epoch},{losses[-1]:.6g},{rate:.1f}\n")
        final = sum(losses) / len(losses)
        print(f"epoch {epoch}/{a.epochs}: mean loss {final:.4f}, {rate:.0f} pairs/s", file=sys.stderr, flush=True)
    log.close()
    save_file({"encoder." + k: v for k, v in enc.state_dict().items()}, a.out)
    print(f"trained {n} images, {step} steps in {time.perf_counter() - start:.1f} s, final loss {final:.4f}; wrote {a.out} and {loss_path}")


if __name__ == "__main__":
    main()
