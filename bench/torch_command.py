#!/usr/bin/python3
"""The seed's network (bench/torch_train.py's Encoder, random weights) as an
encoder command, and its embedding time without the protocol: the peer of
BenchmarkCommandFraming.

    /usr/bin/python3 bench/torch_command.py --direct --res 64 --batch 256
    SIMSEARCH_BENCH_COMMAND="/usr/bin/python3 bench/torch_command.py" \\
        go test -run '^$' -bench CommandFraming ./encoder

--direct embeds random images in a loop and prints images/s; otherwise it
speaks the encoder command protocol on stdin/stdout. Never run by CI.
"""
import argparse
import io
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import Encoder  # noqa: E402


def read_frame(stream):
    head = stream.read(8)
    if len(head) < 8:
        return None
    return np.load(io.BytesIO(stream.read(int.from_bytes(head, "little"))))


def write_frame(stream, array):
    buf = io.BytesIO()
    np.save(buf, array)
    stream.write(len(buf.getbuffer()).to_bytes(8, "little"))
    stream.write(buf.getbuffer())
    stream.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--res", type=int, default=64)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--latent", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--direct", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    models = {}

    def embed(images):
        res = images.shape[1]
        if res not in models:
            models[res] = Encoder(res, a.width, a.latent).eval()
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255)
        return F.normalize(models[res](x), dim=1).numpy()

    with torch.inference_mode():
        if a.direct:
            images = np.random.default_rng(1).integers(0, 256, (a.batch, a.res, a.res, 3), dtype=np.uint8)
            for _ in range(3):
                embed(images)
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < a.seconds:
                embed(images)
                n += a.batch
            print(f"direct: res {a.res} batch {a.batch}: {n / (time.perf_counter() - start):.1f} images/s")
            return
        while (images := read_frame(sys.stdin.buffer)) is not None:
            write_frame(sys.stdout.buffer, embed(images))


if __name__ == "__main__":
    main()
