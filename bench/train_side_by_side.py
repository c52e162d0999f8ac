#!/usr/bin/python3
"""simsearch's training step and embedding beside PyTorch's, in one run.

The five cases of the encoder's speed targets (contrastive at 32 and 64 px,
the autoencoder at 64 px, batch 256; embedding at 32 and 64 px, 256 images
per call), each measured in turn by one or more simsearch test binaries
(go test ./encoder -bench, each under the environment given) and by
bench/torch_train.py, round after round (every other round in the reverse order), so that the
sides alternate and a change of the machine's speed shows as a change
between rounds rather than as a ratio. It prints the CPU (model and the SIMD flags that pick
simsearch's kernels), then a Markdown table of every round's rate and of
the ratios within a round. Every measurement holds /tmp/bench.lock (flock),
the machine's measurement lock.

    go test -c -o /tmp/enc.test ./encoder
    git worktree add /tmp/before HEAD~3 && (cd /tmp/before && go test -c -o /tmp/enc-before.test ./encoder)
    /usr/bin/python3 bench/train_side_by_side.py --binary now=/tmp/enc.test --binary before=/tmp/enc-before.test \\
        --binary 2x2=/tmp/enc.test:SIMSEARCH_WINOGRAD=2x2 --rounds 2

The first --binary is the one the PyTorch ratio is of. It is a peer for
comparison and is never run by CI.
"""
import argparse
import fcntl
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LOCK = "/tmp/bench.lock"

# name, go benchmark, its -benchtime, torch_train.py's arguments, unit
CASES = [
    ("contrastive 32 px (pairs/s)", "TrainStep/contrastive/res32/batch256$", "6x",
     ["--objective", "contrastive", "--res", "32", "--batch", "256", "--seconds", "6"]),
    ("contrastive 64 px (pairs/s)", "TrainStep/contrastive/res64/batch256$", "6x",
     ["--objective", "contrastive", "--res", "64", "--batch", "256", "--seconds", "6"]),
    ("autoencoder 64 px (images/s)", "TrainStep/autoencoder/res64/batch256$", "6x",
     ["--objective", "autoencoder", "--res", "64", "--batch", "256", "--seconds", "6"]),
    ("embedding 32 px (images/s)", "Embed/res32/batch256$", "30x",
     ["--objective", "embed", "--res", "32", "--batch", "256", "--seconds", "4"]),
    ("embedding 64 px (images/s)", "Embed/res64/batch256$", "30x",
     ["--objective", "embed", "--res", "64", "--batch", "256", "--seconds", "4"]),
]


def cpu():
    """The CPU's model name and the flags that choose simsearch's kernels."""
    first, flags = {}, set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "cpu family", "model") and key not in first:
                first[key] = value.strip()
            elif key == "flags" and not flags:
                flags = set(value.split())
    model = f"{first.get('model name', 'unknown CPU')} (family {first.get('cpu family', '?')}, model {first.get('model', '?')})"
    wanted = [f for f in sorted(flags) if f in ("avx2", "fma") or f.startswith("avx512") or f.startswith("amx")]
    return model, wanted


def locked(cmd, env=None):
    """Runs cmd holding the measurement lock and returns its stdout."""
    with open(LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return out.stdout


def go_rate(binary, env, bench, benchtime):
    full_env = dict(os.environ, **env)
    out = locked([binary, "-test.run", "^$", "-test.bench", bench, "-test.benchtime", benchtime], full_env)
    for line in out.splitlines():
        if line.startswith("Benchmark"):
            fields = line.split()
            for i, f in enumerate(fields):
                if f == "images/s":
                    return float(fields[i - 1])
    raise SystemExit(f"{binary} printed no images/s for {bench}:\n{out}")


def torch_rate(args, threads):
    out = locked(["/usr/bin/python3", os.path.join(HERE, "torch_train.py"), "--threads", str(threads)] + args)
    m = re.search(r"([\d.]+) (pairs|images)/s\s*$", out.strip())
    if not m:
        raise SystemExit(f"torch_train.py printed no rate:\n{out}")
    return float(m.group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", action="append", required=True,
                   help="NAME=PATH[:VAR=VALUE,...]: a test binary of package encoder and its environment")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=2, help="PyTorch's threads")
    p.add_argument("--cases", default="", help="comma-separated case numbers, 1 to 5 (default all)")
    p.add_argument("--no-torch", action="store_true", help="the simsearch binaries alone")
    a = p.parse_args()
    if a.rounds < 1:
        p.error(f"--rounds {a.rounds}: give at least 1 round")
    if a.threads < 1:
        p.error(f"--threads {a.threads}: give at least 1 thread")
    sides = []
    for spec in a.binary:
        name, _, rest = spec.partition("=")
        if not name or not rest:
            p.error(f"--binary {spec}: write NAME=PATH, such as now=/tmp/enc.test")
        path, _, envs = rest.partition(":")
        bad = [e for e in envs.split(",") if e and "=" not in e]
        if bad:
            p.error(f"--binary {spec}: {bad[0]} is not VAR=VALUE")
        env = dict(e.split("=", 1) for e in envs.split(",") if e)
        if not os.access(path, os.X_OK):
            raise SystemExit(f"--binary {spec}: {path} is not an executable test binary (go test -c -o {path} ./encoder)")
        sides.append((name, path, env))
    cases = CASES
    if a.cases:
        cases = []
        for i in a.cases.split(","):
            if not i.strip().isdigit() or not 1 <= int(i) <= len(CASES):
                p.error(f"--cases {a.cases}: {i!r} is not a case number from 1 to {len(CASES)} "
                        f"({'; '.join(f'{k + 1} {c[0]}' for k, c in enumerate(CASES))})")
            cases.append(CASES[int(i) - 1])
    model, flags = cpu()
    print(f"CPU: {model}; {os.cpu_count()} CPUs; flags: {' '.join(flags) or 'no AVX2'}", flush=True)
    names = [s[0] for s in sides] + ([] if a.no_torch else ["PyTorch"])
    rates = {(c[0], n): [] for c in cases for n in names}
    for r in range(a.rounds):
        for case, bench, benchtime, targs in cases:
            # Every other round in the reverse order, so that no side always
            # runs first (right after another case's runs) or last.
            order = list(sides) + ([] if a.no_torch else [None])
            if r % 2:
                order.reverse()
            for side in order:
                if side is None:
                    rates[(case, "PyTorch")].append(torch_rate(targs, a.threads))
                else:
                    name, path, env = side
                    rates[(case, name)].append(go_rate(path, env, bench, benchtime))
            print(f"round {r + 1}: {case}: " + ", ".join(f"{n} {rates[(case, n)][-1]:,.0f}" for n in names),
                  file=sys.stderr, flush=True)
    first = names[0]
    ratios = [n for n in names[1:]]
    head = "| case | " + " | ".join(names) + " | " + " | ".join(f"{first} ÷ {n}" for n in ratios) + " |"
    print("\n" + head)
    print("|" + "---|" * (1 + len(names) + len(ratios)))
    for case, *_ in cases:
        cells = [" · ".join(f"{v:,.0f}" for v in rates[(case, n)]) for n in names]
        for n in ratios:
            q = [x / y for x, y in zip(rates[(case, first)], rates[(case, n)])]
            lo, hi = min(q), max(q)
            cells.append(f"{lo:.2f}×" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}–{hi:.2f}×")
        print(f"| {case} | " + " | ".join(cells) + " |")
    print(f"\n(round 1 · round 2 · …; ratios within a round; {a.threads} PyTorch threads)")


if __name__ == "__main__":
    main()
