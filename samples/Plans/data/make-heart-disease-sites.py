#!/usr/bin/env python3
"""Writes each Fed-Heart-Disease hospital's table as the CSV a node registers (standard library only).

Input: the four unmodified UCI "processed" files and FLamby's train/test split, in samples/HeartDisease/data.
Output: heart-disease/<site>.csv with a header; one row per patient of the UCI file, in file order.

What a hospital would export, and nothing more: the raw 13 UCI attributes (a missing value is an empty cell),
the one-hot columns FLamby derives from cp and restecg, the binary label target = (num > 0), and is_test = 1 for
the rows FLamby's split holds out. A plan decides which columns it reads; rows with a missing value in a column
it reads are dropped by the plan (missingValues: drop_rows), exactly as FLamby drops them after removing
slope, ca and thal.
"""
import csv
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "..", "HeartDisease", "data")
SITES = [("cleveland", "processed.cleveland.data"), ("hungary", "processed.hungarian.data"),
         ("switzerland", "processed.switzerland.data"), ("va", "processed.va.data")]
RAW = ["age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak", "slope", "ca", "thal", "num"]


def number(cell):
    cell = cell.strip()
    return "" if cell == "?" else cell


def main():
    split = {}
    with open(os.path.join(SOURCE, "flamby_split_reproduced.csv"), newline="") as f:
        for row in csv.DictReader(f):
            split[(int(row["center"]), int(row["raw_line"]))] = row["set"]
    os.makedirs(os.path.join(HERE, "heart-disease"), exist_ok=True)
    for index, (site, name) in enumerate(SITES):
        with open(os.path.join(SOURCE, name)) as f:
            lines = [line.rstrip("\n") for line in f if line.strip()]
        out_path = os.path.join(HERE, "heart-disease", site + ".csv")
        with open(out_path, "w", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(RAW + ["cp_2", "cp_3", "cp_4", "restecg_1", "restecg_2", "target", "is_test"])
            for line_number, line in enumerate(lines, start=1):
                cells = [number(c) for c in line.split(",")]
                cp, restecg, num = cells[2], cells[6], cells[13]
                one_hot = lambda value, level: "" if value == "" else ("1" if float(value) == level else "0")
                target = "" if num == "" else ("1" if float(num) > 0 else "0")
                held = split.get((index, line_number))
                is_test = "" if held is None else ("1" if held == "test" else "0")
                writer.writerow(cells + [one_hot(cp, 2), one_hot(cp, 3), one_hot(cp, 4), one_hot(restecg, 1), one_hot(restecg, 2), target, is_test])
        print(f"{out_path}: {len(lines)} rows")


if __name__ == "__main__":
    main()
