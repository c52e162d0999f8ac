#!/usr/bin/python3
"""PyTorch's side of a step-by-step check of simsearch's contrastive training.

Takes bench/torch_recipe.py's recipe (the seed's Encoder, PyTorch's default
initialization, InfoNCE with in-batch negatives, torch.optim.Adam) and runs a
few steps of it on augmented views of a dataset folder's first training
images. It writes what simsearch needs to run the same steps from the same
start on the same pixels, and what PyTorch got:

    DIR/init.safetensors   the initial state_dict ("encoder." names)
    DIR/views.u8           the views of every step, uint8 RGB: steps × 2·batch
                           × res × res × 3, each step's first views then
                           their second views
    DIR/torch.json         the settings, every step's loss, and the gradient
                           norm of every parameter at the first step, in
                           float32 and in float64
    DIR/final.safetensors  the state_dict after the last step
    DIR/final64.safetensors  the same steps run in float64 (stored as float32):
                           the reference both float32 sides are measured from

Then the encoder package's TestStepPeer (skipped unless SIMSEARCH_STEP_PEER
names DIR) runs simsearch's training graph and Adam through the same steps and
compares losses, first gradients and final weights with PyTorch's float64
run, next to PyTorch's own float32 run (rounding alone makes float32 runs part
after some steps; the check is that simsearch stays as close to float64 as
PyTorch does):

    /usr/bin/python3 bench/step_peer.py --data shapes32 --aug B --out /tmp/steppeer
    SIMSEARCH_STEP_PEER=/tmp/steppeer go test ./encoder -run TestStepPeer -v

It is a peer check and is never run by CI.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_import import save_file  # noqa: E402
from torch_recipe import augment, load_split, to_input  # noqa: E402
from torch_train import Encoder  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="dataset folder written by simsearch generate")
    p.add_argument("--aug", choices=["A", "B", "C"], default="B")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--tau", type=float, default=0.07)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--latent", type=int, default=128)
    p.add_argument("--input", choices=["centered", "unit"], default="centered")
    p.add_argument("--out", required=True, help="folder for the files above")
    a = p.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)
    images = torch.from_numpy(load_split(a.data, limit=a.steps * a.batch))
    if len(images) < a.steps * a.batch:
        sys.exit(f"{a.data} has {len(images)} training images; {a.steps} steps of {a.batch} need {a.steps * a.batch}")
    res = images.shape[1]
    enc = Encoder(res, a.width, a.latent)
    init = {k: v.detach().clone() for k, v in enc.state_dict().items()}
    os.makedirs(a.out, exist_ok=True)
    save_file({"encoder." + k: v for k, v in init.items()}, os.path.join(a.out, "init.safetensors"))

    steps = []
    with open(os.path.join(a.out, "views.u8"), "wb") as views:
        for step in range(a.steps):
            x = images[step * a.batch:(step + 1) * a.batch]
            u1, u2 = augment(x, a.aug, rng, gen), augment(x, a.aug, rng, gen)
            views.write(u1.numpy().tobytes())
            views.write(u2.numpy().tobytes())
            steps.append((u1, u2))

    def run(dtype):
        """The steps from the same start on the same views, in dtype."""
        net = Encoder(res, a.width, a.latent)
        net.load_state_dict(init)
        net.to(dtype)
        opt = torch.optim.Adam(net.parameters(), lr=a.lr)
        losses, first_grads = [], {}
        for step, (u1, u2) in enumerate(steps):
            opt.zero_grad(set_to_none=True)
            z1 = F.normalize(net(to_input(u1, a.input).to(dtype)), dim=1)
            z2 = F.normalize(net(to_input(u2, a.input).to(dtype)), dim=1)
            loss = F.cross_entropy(z1 @ z2.T / a.tau, torch.arange(len(u1)))
            loss.backward()
            if step == 0:
                first_grads = {"encoder." + n: float(q.grad.norm()) for n, q in net.named_parameters()}
            opt.step()
            losses.append(loss.item())
        state = {"encoder." + k: v.to(torch.float32) for k, v in net.state_dict().items()}
        return losses, first_grads, state

    losses, first_grads, state = run(torch.float32)
    save_file(state, os.path.join(a.out, "final.safetensors"))
    losses64, first_grads64, state64 = run(torch.float64)
    save_file(state64, os.path.join(a.out, "final64.safetensors"))
    with open(os.path.join(a.out, "torch.json"), "w") as f:
        json.dump({"aug": a.aug, "steps": a.steps, "batch": a.batch, "res": res, "width": a.width,
                   "latent": a.latent, "lr": a.lr, "tau": a.tau, "input": a.input,
                   "losses": losses, "first_grad_norms": first_grads,
                   "losses64": losses64, "first_grad_norms64": first_grads64}, f, indent=1)
    print(f"{a.steps} steps of batch {a.batch}: loss {losses[0]:.5f} → {losses[-1]:.5f} "
          f"(float64: {losses64[0]:.5f} → {losses64[-1]:.5f}); wrote {a.out}")

if __name__ == "__main__":
    main()
