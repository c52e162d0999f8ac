#!/usr/bin/python3
"""Peers of simsearch's index benchmark: Debian's hnswlib and FAISS.

Reads the vectors, queries and exact neighbours written by

    go run ./bench/indexbench gen -n 100000 -dir /tmp/idx100k

and measures, on the same data and with the same number of threads as
bench/indexbench: hnswlib (M 16, ef_construction 200, inner product, which
is 1 - u.v as in simsearch) build rate, queries/s and recall@10 over a sweep
of ef; FAISS IndexFlatIP (exact) queries/s; FAISS IndexHNSWFlat (M 16,
efConstruction 200, inner product) build rate, queries/s and recall@10.

    /usr/bin/python3 bench/index_peers.py /tmp/idx100k --threads 2
    /usr/bin/python3 bench/index_peers.py /tmp/idx1m --skip flat,faiss-hnsw --hnswlib-index /tmp/idx1m/hnswlib.bin

With --hnswlib-index FILE, hnswlib's index is loaded from FILE when it exists
(no build is measured) and saved there after a build otherwise, so that a
search sweep at a million vectors fits in a short run.

Queries are submitted as one batch, which both libraries spread over the
threads, as bench/indexbench spreads them over goroutines. Beside wall-clock
rates it prints rates per CPU-second (time.process_time, all threads), which
the load of other jobs on a shared machine disturbs much less. It is a peer for
comparison and is never run by CI.
"""
import argparse
import os
import time

import numpy as np


def read(path, magic):
    header = np.fromfile(path, dtype=np.uint32, count=4)
    if header[0].tobytes() != magic.encode() or header[1] != 1:
        raise SystemExit(f"{path}: not a {magic} version 1 file")
    n, d = int(header[2]), int(header[3])
    dtype = np.float32 if magic == "F32V" else np.int32
    return np.fromfile(path, dtype=dtype, offset=16).reshape(n, d)


def recall(found, truth):
    k = truth.shape[1]
    return np.mean([len(set(found[i][:k]) & set(truth[i])) / k for i in range(len(truth))])


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--efs", default="10,16,24,32,48,64,96,128,256")
    ap.add_argument("--skip", default="", help="comma-separated: hnswlib,flat,faiss-hnsw")
    ap.add_argument("--repeat", type=int, default=1, help="hnswlib: passes over the queries timed at each ef")
    ap.add_argument("--hnswlib-index", default="", help="file to load hnswlib's index from, or to save it to after building")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    efs = [int(x) for x in args.efs.split(",")]

    base = read(os.path.join(args.dir, "base.f32"), "F32V")
    query = read(os.path.join(args.dir, "query.f32"), "F32V")
    truth = read(os.path.join(args.dir, "truth.i32"), "I32V")
    n, dim = base.shape
    print(f"# {args.dir}: {n} vectors of dimension {dim}, {len(query)} queries, {args.threads} threads, load {load()}")

    if "hnswlib" not in skip:
        import hnswlib
        before = rss_mib()
        index = hnswlib.Index(space="ip", dim=dim)
        saved = args.hnswlib_index
        if saved and os.path.exists(saved):
            start = time.time()
            index.load_index(saved, max_elements=n)
            print(f"hnswlib index loaded from {saved} in {time.time() - start:.1f} s, RSS +{rss_mib() - before:.0f} MiB")
        else:
            index.init_index(max_elements=n, M=16, ef_construction=200, random_seed=100)
            index.set_num_threads(args.threads)
            start, cpu = time.time(), time.process_time()
            index.add_items(base, np.arange(n))
            took, took_cpu = time.time() - start, time.process_time() - cpu
            print(f"hnswlib build: {took:.1f} s, {n / took:.0f} inserts/s, {n / took_cpu:.0f} inserts/cpu-s, RSS +{rss_mib() - before:.0f} MiB")
            if saved:
                index.save_index(saved)
        print(f"{'ef':6} {'recall@10':>10} {'q/s':>10} {'q/s 1 thr':>10} {'q/cpu-s':>10}")
        for ef in efs:
            index.set_ef(ef)
            index.set_num_threads(args.threads)
            index.knn_query(query, k=10)
            start, cpu = time.time(), time.process_time()
            for _ in range(args.repeat):
                found, _ = index.knn_query(query, k=10)
            qps, per_cpu = args.repeat * len(query) / (time.time() - start), args.repeat * len(query) / (time.process_time() - cpu)
            index.set_num_threads(1)
            start, cpu = time.time(), time.process_time()
            index.knn_query(query, k=10)
            qps1, per_cpu1 = len(query) / (time.time() - start), len(query) / (time.process_time() - cpu)
            print(f"{ef:<6} {recall(found, truth):10.4f} {qps:10.0f} {qps1:10.0f} {max(per_cpu, per_cpu1):10.0f}")
        del index

    import faiss
    faiss.omp_set_num_threads(args.threads)
    if "flat" not in skip:
        flat = faiss.IndexFlatIP(dim)
        flat.add(base)
        nq = min(len(query), max(64, 2_000_000_000 // (n * dim)))
        start, cpu = time.time(), time.process_time()
        _, found = flat.search(query[:nq], 10)
        qps, per_cpu = nq / (time.time() - start), nq / (time.process_time() - cpu)
        print(f"faiss IndexFlatIP: {qps:.1f} queries/s, {per_cpu:.1f} queries/cpu-s (batch of {nq}), recall@10 {recall(found, truth[:nq]):.4f}")
        start = time.time()
        for q in range(8):
            flat.search(query[q:q + 1], 10)
        print(f"faiss IndexFlatIP, one query at a time: {8 / (time.time() - start):.1f} queries/s")
        del flat

    if "faiss-hnsw" not in skip:
        before = rss_mib()
        h = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT)
        h.hnsw.efConstruction = 200
        start, cpu = time.time(), time.process_time()
        h.add(base)
        took, took_cpu = time.time() - start, time.process_time() - cpu
        print(f"faiss IndexHNSWFlat build: {took:.1f} s, {n / took:.0f} inserts/s, {n / took_cpu:.0f} inserts/cpu-s, RSS +{rss_mib() - before:.0f} MiB")
        print(f"{'ef':6} {'recall@10':>10} {'q/s':>10} {'q/cpu-s':>10}")
        for ef in efs:
            h.hnsw.efSearch = ef
            h.search(query, 10)
            start, cpu = time.time(), time.process_time()
            _, found = h.search(query, 10)
            qps, per_cpu = len(query) / (time.time() - start), len(query) / (time.process_time() - cpu)
            print(f"{ef:<6} {recall(found, truth):10.4f} {qps:10.0f} {per_cpu:10.0f}")


if __name__ == "__main__":
    main()
