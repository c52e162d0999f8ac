#!/usr/bin/python3
"""Exact k-NN accuracy in NumPy over an export, beside the report's.

Reads the vectors and items that `simsearch export` wrote, lets every
validation row query its k nearest training rows by Euclidean distance
(the distance the index uses; a cosine space stores unit vectors), takes
the majority label (ties go to the label met nearest, as the report
does), and prints the accuracy of every label column next to the k-NN
accuracy of report.json for the same space.

    simsearch export --db photos.db --space pixels --out emb.npy
    /usr/bin/python3 bench/knn_export.py emb.npy --report report/report.json --space pixels
"""
import argparse
import csv
import json
import os

import numpy as np


def vote(labels):
    counts = {}
    for l in labels:
        if l != "":
            counts[l] = counts.get(l, 0) + 1
    best, best_count = None, 0
    for l in labels:  # nearest first: a strictly larger count takes the lead
        if l != "" and counts[l] > best_count:
            best, best_count = l, counts[l]
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("npy")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--report", help="report.json to compare with")
    ap.add_argument("--space", help="the space of report.json")
    args = ap.parse_args()
    vectors = np.load(args.npy)
    with open(os.path.splitext(args.npy)[0] + ".items.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(vectors), (len(rows), vectors.shape)
    split = np.array([r["split"] for r in rows])
    train, val = np.flatnonzero(split == "train"), np.flatnonzero(split == "val")
    t, q = vectors[train].astype(np.float64), vectors[val].astype(np.float64)
    d2 = (q * q).sum(1)[:, None] - 2 * q @ t.T + (t * t).sum(1)[None, :]
    order = np.argsort(d2, axis=1, kind="stable")[:, : args.k]
    fixed = {"row", "id", "hash", "source", "split"}
    labels = [c for c in rows[0].keys() if c not in fixed and not c.endswith("_value")]
    report = {}
    if args.report:
        with open(args.report) as f:
            for sr in json.load(f)["spaces"]:
                if sr["name"] == args.space:
                    report = {a["label"]: a for a in sr["knn"]}
    print("%-14s %8s %10s %10s %8s" % ("label", "queries", "numpy", "report", "diff"))
    for name in labels:
        col = [r[name] for r in rows]
        hits = n = 0
        for qi, neighbours in zip(val, order):
            truth = col[qi]
            if truth == "":
                continue
            n += 1
            hits += vote([col[train[j]] for j in neighbours]) == truth
        acc = hits / n if n else float("nan")
        rep = report.get(name, {}).get("accuracy", float("nan"))
        print("%-14s %8d %10.4f %10.4f %8.4f" % (name, n, acc, rep, acc - rep))


if __name__ == "__main__":
    main()
