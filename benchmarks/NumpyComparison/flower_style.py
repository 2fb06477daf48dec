"""The same aggregations as FederatedSharp's, written Flower-style with numpy, timed in the same way.

Usage: python3 flower_style.py DATA N P REPEATS OUT
DATA holds N x P float32 (row-major, one update per row); every update has the same example count.
Prints one JSON object: per strategy, the median seconds over REPEATS runs; writes each result to OUT.<name>.
"""
import json
import sys
import time

import numpy as np


def fedavg(updates, examples):
    # Weighted sum of the updates, divided by the total examples (Flower's aggregate()).
    weighted = [u * n for u, n in zip(updates, examples)]
    total = sum(examples)
    acc = weighted[0].copy()
    for w in weighted[1:]:
        np.add(acc, w, out=acc)
    return acc / total


def median(updates):
    # Coordinate-wise median along the client axis (Flower's aggregate_median()).
    return np.median(np.asarray(updates), axis=0)


def trimmed_mean(updates, beta):
    # Drop the int(beta N) smallest and largest values per coordinate, average the rest (Flower's _trim_mean()).
    stacked = np.asarray(updates)
    n = stacked.shape[0]
    cut = int(beta * n)
    part = np.partition(stacked, (cut, n - cut - 1), axis=0)
    return np.mean(part[cut:n - cut], axis=0)


def pairwise_distances(flat):
    # Flower's _compute_distances(): squared distances in a Python loop over every ordered pair.
    n = flat.shape[0]
    distances = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            delta = flat[i] - flat[j]
            distances[i, j] = float(np.dot(delta, delta))
    return distances


def krum(updates, f):
    # Each client's score is the sum over its n - f - 2 nearest others (Flower's aggregate_krum(), one selected update).
    flat = np.asarray(updates)
    n = flat.shape[0]
    distances = pairwise_distances(flat)
    keep = n - f - 2
    scores = [np.sort(distances[i])[1:keep + 1].sum() for i in range(n)]
    return flat[int(np.argmin(scores))]


def bulyan(updates, f):
    # Flower's aggregate_bulyan(): Krum picks theta = n - 2f updates one at a time (the distances computed once here;
    # Flower recomputes them for every pick), then per coordinate the mean of the beta = theta - 2f values closest to
    # the selection's median (_aggregate_n_closest_weights(): argsort of the absolute differences).
    flat = np.asarray(updates)
    n = flat.shape[0]
    distances = pairwise_distances(flat)
    remaining, selected = list(range(n)), []
    theta = n - 2 * f
    while len(selected) < theta:
        keep = max(1, len(remaining) - f - 2)
        scores = [np.sort([distances[i, j] for j in remaining if j != i])[:keep].sum() for i in remaining]
        best = remaining[int(np.argmin(scores))]
        selected.append(best)
        remaining.remove(best)
    chosen = flat[selected]
    middle = np.median(chosen, axis=0)
    beta = theta - 2 * f
    order = np.argsort(np.abs(chosen - middle), axis=0)[:beta]
    return np.mean(np.take_along_axis(chosen, order, axis=0), axis=0)


def main():
    path, n, p, repeats, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    data = np.fromfile(path, dtype=np.float32).reshape(n, p)
    updates = [data[i] for i in range(n)]
    examples = [10] * n
    strategies = {
        "fedavg": lambda: fedavg(updates, examples),
        "median": lambda: median(updates),
        "trimmed": lambda: trimmed_mean(updates, 0.2),
        "krum": lambda: krum(updates, n // 5),
        "bulyan": lambda: bulyan(updates, (n - 3) // 4),
    }
    timings = {}
    for name, run in strategies.items():
        result = run()  # warm-up, and the result to compare
        np.asarray(result, dtype=np.float32).tofile(out + "." + name)
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
        timings[name] = sorted(seconds)[len(seconds) // 2]
    print(json.dumps({"numpy": np.__version__, "seconds": timings}))


if __name__ == "__main__":
    main()
