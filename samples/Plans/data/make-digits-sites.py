#!/usr/bin/env python3
"""Splits the 8x8 digits over four sites with a seeded Dirichlet(0.5) draw over labels (standard library only).

Input: samples/Digits/data/digits.csv.gz (64 pixel counts then the label; no header).
Output: digits/site-<k>.csv with a header pixel_0..pixel_63,digit: each site's table as a node registers it.
A Dirichlet label split is the usual way to make non-IID clients from this set; the seed fixes it.
"""
import csv
import gzip
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "..", "Digits", "data", "digits.csv.gz")
SITES = 4
ALPHA = 0.5


def main():
    rng = random.Random(20261201)
    with gzip.open(SOURCE, "rt") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    by_label = {}
    for row in rows:
        by_label.setdefault(int(row[64]), []).append(row)
    sites = [[] for _ in range(SITES)]
    for label in sorted(by_label):
        members = by_label[label]
        rng.shuffle(members)
        weights = [rng.gammavariate(ALPHA, 1.0) for _ in range(SITES)]
        total = sum(weights)
        cuts, acc = [], 0.0
        for w in weights[:-1]:
            acc += w / total
            cuts.append(round(acc * len(members)))
        bounds = [0] + cuts + [len(members)]
        for k in range(SITES):
            sites[k].extend(members[bounds[k]:bounds[k + 1]])
    os.makedirs(os.path.join(HERE, "digits"), exist_ok=True)
    for k, site_rows in enumerate(sites, start=1):
        rng.shuffle(site_rows)
        path = os.path.join(HERE, "digits", f"site-{k}.csv")
        with open(path, "w", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow([f"pixel_{i}" for i in range(64)] + ["digit"])
            writer.writerows(site_rows)
        labels = sorted({int(r[64]) for r in site_rows})
        print(f"{path}: {len(site_rows)} rows, labels {labels}")


if __name__ == "__main__":
    main()
