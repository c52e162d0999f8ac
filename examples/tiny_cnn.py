#!/usr/bin/env python3
"""Train a small CNN (not simsearch's architecture) in PyTorch and save it
as TorchScript, for the README's walk-through of an outside encoder.

The network: 3×3 convolutions with batch norm and max pooling, global
average pooling, a linear projection to --dim. It is trained with
cross-entropy on one label column of a dataset folder written by
"simsearch generate" (factors.csv), so it should become sensitive to that
label; the embedding is the projection before the classifier.

    simsearch generate --n 3000 --res 32 --out shapes32
    python3 examples/tiny_cnn.py --data shapes32 --label label_shape --out tiny.pt

Then examples/embed_torch.py --model tiny.pt serves it to simsearch.
"""
import argparse
import csv
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image


class TinyCNN(nn.Module):
    def __init__(self, dim=64, classes=3):
        super().__init__()
        layers, c = [], 3
        for width in (16, 32, 64):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
            c = width
        self.features = nn.Sequential(*layers)
        self.project = nn.Linear(c, dim)
        self.classify = nn.Linear(dim, classes)

    def forward(self, x):
        # The embedding: what simsearch measures.
        return self.project(self.features(x).mean(dim=(2, 3)))


def load(folder, label):
    images, labels = [], []
    with open(os.path.join(folder, "factors.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row.get("split", "train") != "train":
                continue
            images.append(np.asarray(Image.open(os.path.join(folder, row["file"])).convert("RGB")))
            labels.append(int(row[label]))
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return x, torch.tensor(labels)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="dataset folder written by simsearch generate")
    p.add_argument("--label", default="label_shape", help="factors.csv column of class numbers to train on")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--out", default="tiny.pt")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    x, y = load(a.data, a.label)
    model = TinyCNN(a.dim, int(y.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(a.epochs):
        order = torch.randperm(len(x))
        total = correct = 0
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            logits = model.classify(F.relu(model(x[idx])))
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += len(idx)
            correct += (logits.argmax(1) == y[idx]).sum().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, train accuracy {correct / total:.3f}", file=sys.stderr)
    model.eval()
    torch.jit.script(model).save(a.out)
    print(f"wrote {a.out} (TorchScript): {sum(p.numel() for p in model.parameters())} parameters", file=sys.stderr)


if __name__ == "__main__":
    main()
