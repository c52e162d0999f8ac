#!/usr/bin/python3
"""Write a folder of labelled photos for trying `simsearch ingest --labels`.

Each photo is an 80x60 JPEG (one in five grayscale) of a disc, a bar or a
ring, of random colour, on a noisy background; labels.csv holds its class
(`kind`, categorical) and its size in pixels (`size`, continuous).

    /usr/bin/python3 bench/labelled_photos.py --n 600 --out photos
"""
import argparse
import csv
import os
import random

from PIL import Image, ImageDraw


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--out", default="photos")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    kinds = ["disc", "bar", "ring"]
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "kind", "size"])
        for i in range(args.n):
            kind = kinds[rng.randrange(3)]
            size = rng.uniform(6, 22)
            img = Image.new("RGB", (80, 60))
            px = img.load()
            for y in range(60):
                for x in range(80):
                    g = rng.randrange(40)
                    px[x, y] = (g, g, g)
            d = ImageDraw.Draw(img)
            cx, cy = rng.uniform(25, 55), rng.uniform(18, 42)
            colour = tuple(rng.randrange(80, 256) for _ in range(3))
            if kind == "disc":
                d.ellipse([cx - size, cy - size, cx + size, cy + size], fill=colour)
            elif kind == "ring":
                d.ellipse([cx - size, cy - size, cx + size, cy + size], outline=colour, width=max(2, int(size / 4)))
            else:
                d.rectangle([cx - size, cy - size / 3, cx + size, cy + size / 3], fill=colour)
            if i % 5 == 0:
                img = img.convert("L")
            name = "%04d.jpg" % i
            img.save(os.path.join(args.out, name), quality=90)
            w.writerow([name, kind, "%.2f" % size])


if __name__ == "__main__":
    main()
