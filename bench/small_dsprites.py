#!/usr/bin/python3
"""Write a small factorial dataset in the dSprites .npz layout.

The arrays are those of dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz:
imgs (N x 64 x 64 uint8, 0 or 1), latents_classes and latents_values
(N x 6: color, shape, scale, orientation, posX, posY), saved with
np.savez_compressed, over a smaller grid (by default 1 x 3 x 3 x 4 x 8 x 8
= 2,304 images, a few seconds to write).

    /usr/bin/python3 bench/small_dsprites.py --out small_dsprites.npz
"""
import argparse

import numpy as np


def shape_mask(shape, scale, angle, x, y, res=64):
    yy, xx = np.mgrid[0:res, 0:res].astype(np.float64) + 0.5
    # Coordinates in the shape's frame: rotated, centred, scaled.
    dx, dy = xx - x, yy - y
    c, s = np.cos(angle), np.sin(angle)
    u, v = (c * dx + s * dy) / scale, (-s * dx + c * dy) / scale
    if shape == 0:  # square
        return (np.abs(u) <= 1) & (np.abs(v) <= 1)
    if shape == 1:  # ellipse
        return (u / 1.2) ** 2 + (v / 0.6) ** 2 <= 1
    # heart: two discs and a triangle
    lobes = ((u + 0.5) ** 2 + (v + 0.3) ** 2 <= 0.3) | ((u - 0.5) ** 2 + (v + 0.3) ** 2 <= 0.3)
    tip = (v >= -0.3) & (v <= 1.1) & (np.abs(u) <= 1.05 * (1.1 - v) / 1.4)
    return lobes | tip


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="small_dsprites.npz")
    ap.add_argument("--scales", type=int, default=3)
    ap.add_argument("--orientations", type=int, default=4)
    ap.add_argument("--positions", type=int, default=8)
    args = ap.parse_args()
    scales = np.linspace(0.5, 1, args.scales)
    angles = np.linspace(0, np.pi / 2, args.orientations, endpoint=False)
    pos = np.linspace(0, 1, args.positions)
    imgs, classes, values = [], [], []
    for sh in range(3):
        for si, sc in enumerate(scales):
            for oi, an in enumerate(angles):
                for xi, px in enumerate(pos):
                    for yi, py in enumerate(pos):
                        x, y = 16 + 32 * px, 16 + 32 * py
                        imgs.append(shape_mask(sh, 8 * sc, an, x, y).astype(np.uint8))
                        classes.append([0, sh, si, oi, xi, yi])
                        values.append([1, sh + 1, sc, an, px, py])
    np.savez_compressed(args.out, imgs=np.array(imgs, dtype=np.uint8),
                        latents_classes=np.array(classes, dtype=np.int64),
                        latents_values=np.array(values, dtype=np.float64))
    print("wrote %s: %d images" % (args.out, len(imgs)))


if __name__ == "__main__":
    main()
