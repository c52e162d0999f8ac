#!/usr/bin/python3
"""simsearch's contrastive training beside its PyTorch peer, over seeds.

For each augmentation and seed it trains one encoder with "simsearch train"
and one with bench/torch_recipe.py on the same dataset folder and recipe
(the SPEC's augmentation, InfoNCE tau 0.07, Adam 2e-4, batch 256, pixels
centred to [-1, 1], the last partial batch kept), imports the PyTorch one
("simsearch import --torch --input centered"), ingests all of an
augmentation's encoders into one database and runs "simsearch report" on
it, so both sides are measured by the same code. It prints, side by side
as mean ± standard deviation over the seeds, the mean loss of every epoch
and the report's k-NN accuracies and intervention sensitivities, and marks
each cell: a contrastive cell meets the target when the two means are
within 0.05, or within the pooled seed spread where that is wider; the
final loss when the means are within 15 %.

Every training and the report hold /tmp/bench.lock (flock; timing runs take
the machine's measurement lock), and runs.jsonl logs each run's seconds from
the moment it held the lock. Finished runs are kept in --work and not run
again, so the script can be run in parts:

    go build -o /tmp/simsearch . && /tmp/simsearch generate --n 20000 --res 32 --val-frac 0.2 --out shapes32
    /usr/bin/python3 bench/recipe_compare.py --simsearch /tmp/simsearch --data shapes32 --aug A --seeds 1,2,3
    /usr/bin/python3 bench/recipe_compare.py --simsearch /tmp/simsearch --data shapes32 --aug A --seeds 1,2,3 --report-only

It is a peer for comparison and is never run by CI.
"""
import argparse
import csv
import fcntl
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOCK = "/tmp/bench.lock"
LABELS = ["shape", "color", "location", "size"]
FACTORS = ["shape", "color", "location", "size", "rotation"]


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(cmd, log, lock=False):
    """Runs cmd, holding the measurement lock when lock is set, and logs its
    seconds (from the moment the lock is held, so waiting is not counted)."""
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    with open(LOCK, "a") as held:
        if lock:
            fcntl.flock(held, fcntl.LOCK_EX)
        begin = time.time()
        before = load()
        subprocess.run(cmd, check=True)
        seconds = time.time() - begin
    log.write(json.dumps({"cmd": cmd, "locked": lock, "seconds": seconds, "load_before": before, "load_after": load()}) + "\n")
    log.flush()
    return seconds


def epoch_losses(path):
    sums, counts = {}, {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            e = int(row["epoch"])
            sums[e] = sums.get(e, 0.0) + float(row["loss"])
            counts[e] = counts.get(e, 0) + 1
    return [sums[e] / counts[e] for e in sorted(sums)]


def mean_std(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None
    m = sum(xs) / len(xs)
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, s


def fmt(m, s):
    return "—" if m is None else f"{m:.3f} ± {s:.3f}"


def cells(space):
    out = {}
    for k in space.get("knn") or []:
        out["k-NN " + k["label"]] = k["accuracy"]
    for iv in space.get("interventions") or []:
        out["sensitivity " + iv["factor"]] = iv["sensitivity"]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--simsearch", required=True, help="the simsearch binary")
    p.add_argument("--data", required=True, help="dataset folder written by simsearch generate")
    p.add_argument("--aug", default="A", help="augmentations, comma-separated (A,B,C)")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--work", default="/tmp/recipe-compare", help="folder of the runs' files")
    p.add_argument("--sides", default="simsearch,torch",
                   help="the two sides compared: simsearch, torch, or simsearch_NAME of a --variant")
    p.add_argument("--variant", action="append", default=[],
                   help='NAME=FLAGS: side simsearch_NAME trains with these extra flags, e.g. "unit=--input unit --drop-last"')
    p.add_argument("--report-only", action="store_true", help="train nothing; report on the runs there are")
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    log = open(os.path.join(a.work, "runs.jsonl"), "a")
    seeds = [int(s) for s in a.seeds.split(",")]
    sides = a.sides.split(",")
    variants = dict(v.split("=", 1) for v in a.variant)
    with open(os.path.join(a.data, "dataset.json")) as f:
        res = json.load(f)["res"]
    augs = a.aug.split(",")
    # Seed by seed, so that every augmentation has as many seeds as there
    # was time for.
    for seed in seeds:
        for aug in augs:
            for side in sides:
                out = os.path.join(a.work, f"{side}-{aug}-{seed}.safetensors")
                if os.path.exists(out) or a.report_only:
                    continue
                if side.startswith("simsearch"):
                    extra = variants[side.partition("_")[2]].split() if "_" in side else []
                    run([a.simsearch, "train", "--data", a.data, "--aug", aug, "--epochs", str(a.epochs),
                         "--batch", str(a.batch), "--seed", str(seed), "--out", out, "--quiet"] + extra, log, lock=True)
                else:
                    raw = os.path.join(a.work, f"torch-{aug}-{seed}.torch.safetensors")
                    run(["/usr/bin/python3", os.path.join(HERE, "torch_recipe.py"), "--data", a.data,
                         "--aug", aug, "--seed", str(seed), "--epochs", str(a.epochs), "--batch", str(a.batch),
                         "--out", raw, "--loss-csv", os.path.splitext(out)[0] + ".loss.csv"], log, lock=True)
                    run([a.simsearch, "import", "--torch", raw, "--objective", "contrastive", "--res", str(res),
                         "--width", "32", "--latent", "128", "--aug", aug, "--input", "centered", "--data", a.data,
                         "--out", out, "--quiet"], log)
    for aug in augs:
        ckpts = {(side, seed): os.path.join(a.work, f"{side}-{aug}-{seed}.safetensors") for seed in seeds for side in sides}
        done = {k: v for k, v in ckpts.items() if os.path.exists(v)}
        if not done:
            continue
        db = os.path.join(a.work, f"{aug}.db")
        report_dir = os.path.join(a.work, f"report-{aug}")
        names = sorted(os.path.splitext(os.path.basename(v))[0] for v in done.values())
        stamp = os.path.join(a.work, f"{aug}.spaces")
        if not (os.path.exists(stamp) and open(stamp).read() == ",".join(names)):
            if os.path.exists(db):
                os.remove(db)
            for path in sorted(done.values()):
                run([a.simsearch, "ingest", "--db", db, "--encoder", path, "--quiet", a.data], log)
            run([a.simsearch, "report", "--db", db, "--out", report_dir, "--quiet"], log, lock=True)
            with open(stamp, "w") as f:
                f.write(",".join(names))
        with open(os.path.join(report_dir, "report.json")) as f:
            report = json.load(f)
        spaces = {s["name"]: s for s in report["spaces"]}
        print(f"\n## Augmentation {aug}: seeds {a.seeds}, {a.epochs} epochs, batch {a.batch}\n")
        per_side = {}
        for side in sides:
            runs = [s for s in seeds if (side, s) in done]
            per_side[side] = {
                "seeds": runs,
                "losses": [epoch_losses(os.path.splitext(done[(side, s)])[0] + ".loss.csv") for s in runs],
                "cells": [cells(spaces[f"{side}-{aug}-{s}"]) for s in runs],
            }
        left, right = sides[0], sides[-1]
        print(f"| epoch | {left} loss | {right} loss | ratio |")
        print("|---|---|---|---|")
        for e in range(a.epochs):
            ml, sl = mean_std([l[e] for l in per_side[left]["losses"] if len(l) > e])
            mr, sr = mean_std([l[e] for l in per_side[right]["losses"] if len(l) > e])
            ratio = f"{ml / mr:.2f}" if ml and mr else "—"
            print(f"| {e + 1} | {fmt(ml, sl)} | {fmt(mr, sr)} | {ratio} |")
        ml, _ = mean_std([l[-1] for l in per_side[left]["losses"]])
        mr, _ = mean_std([l[-1] for l in per_side[right]["losses"]])
        if ml and mr:
            print(f"\nfinal loss: {ml:.4f} against {mr:.4f}, {100 * (ml - mr) / mr:+.0f} % "
                  f"({'within' if abs(ml - mr) <= 0.15 * mr else 'outside'} 15 %)")
        keys = [f"k-NN {l}" for l in LABELS] + [f"sensitivity {f}" for f in FACTORS]
        print(f"\n| cell | {left} ({len(per_side[left]['seeds'])} seeds) | {right} ({len(per_side[right]['seeds'])} seeds) | difference | target |")
        print("|---|---|---|---|---|")
        for key in keys:
            ml, sl = mean_std([c.get(key) for c in per_side[left]["cells"]])
            mr, sr = mean_std([c.get(key) for c in per_side[right]["cells"]])
            if ml is None or mr is None:
                continue
            allowed = max(0.05, math.sqrt((sl ** 2 + sr ** 2) / 2))
            verdict = "meets" if abs(ml - mr) <= allowed else "misses"
            print(f"| {key} | {fmt(ml, sl)} | {fmt(mr, sr)} | {ml - mr:+.3f} | {verdict} (±{allowed:.3f}) |")
        print(f"\nload average at the end: {load()}")


if __name__ == "__main__":
    main()
