#!/usr/bin/env python3
"""Embed a folder of images with a PyTorch model and write emb.npy and
emb.items.csv: the precomputed vectors that "simsearch ingest --vectors"
reads (one row of emb.npy per line of the CSV, in the same order).

    python3 examples/embed_folder.py --model tiny.pt --data shapes32 --out emb
    simsearch ingest --db outside.db --vectors emb.npy --items emb.items.csv

The CSV has the columns source (the image's path, as simsearch stores a
folder's files), split, and every other column of the folder's
factors.csv (a dataset folder written by simsearch generate) or of
--labels: the labels the k-NN measures are computed on. Images are fed as
in examples/embed_torch.py: (N, 3, H, W) float32 in [0, 1].
"""
import argparse
import csv
import os

import numpy as np
import torch
from PIL import Image


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="TorchScript or pickled module file")
    p.add_argument("--data", required=True, help="folder of images with factors.csv, or with --labels")
    p.add_argument("--labels", help="CSV with a file column and label columns (default: DATA/factors.csv)")
    p.add_argument("--res", type=int, default=0, help="resize images to this side (default: as they are)")
    p.add_argument("--out", default="emb", help="prefix of the files to write")
    a = p.parse_args()
    try:
        model = torch.jit.load(a.model)
    except (RuntimeError, ValueError):
        model = torch.load(a.model, weights_only=False)
    model.eval()
    with open(a.labels or os.path.join(a.data, "factors.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    vectors = []
    with torch.inference_mode():
        for i in range(0, len(rows), 256):
            batch = []
            for row in rows[i:i + 256]:
                img = Image.open(os.path.join(a.data, row["file"])).convert("RGB")
                if a.res:
                    img = img.resize((a.res, a.res))
                batch.append(np.asarray(img))
            x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float() / 255
            vectors.append(model(x).flatten(1).numpy())
    np.save(a.out + ".npy", np.concatenate(vectors).astype(np.float32))
    # factors.csv of simsearch generate has label_shape, label_color, ...
    # (class numbers) beside the factors: those become the labels shape,
    # color, ...; every other column is kept as it is.
    columns = [k for k in rows[0] if k not in {"id", "file", "split"}]
    names = {k: k[len("label_"):] for k in columns if k.startswith("label_")}
    columns = [k for k in columns if k not in names.values()]
    with open(a.out + ".items.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "source", "split"] + [names.get(k, k) for k in columns])
        for i, row in enumerate(rows):
            w.writerow([i, os.path.join(a.data, row["file"]), row.get("split", "train")] + [row[k] for k in columns])
    print(f"wrote {a.out}.npy ({len(rows)} vectors) and {a.out}.items.csv")


if __name__ == "__main__":
    main()
