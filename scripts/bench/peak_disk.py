#!/usr/bin/env python3
"""peak_disk.py - sample the disk usage of some paths every 50 ms until a stop file appears
(the sampler logic of scripts/footprint.sh, in python so that it stays cheap).

Usage: peak_disk.py --stop-file F --out F [--ready-file F] [--interval 0.05] PATH...

Every --interval seconds it sums the apparent size (st_size) of the regular files under
each PATH (a PATH may be a file, or may not exist yet). When the stop file exists it takes
a last sample and writes one line of space-separated integers to --out:
    total_initial total_peak total_final  initial_1 peak_1 final_1 ... samples
The total is the sum over all PATHs, sampled at the same instant: a file renamed from
one watched PATH into another is counted once.
"""
import argparse
import os
import time


def tree_size(path):
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    if not os.path.isdir(path):
        return st.st_size
    total = 0
    stack = [path]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        with it:
            for e in it:
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif e.is_file(follow_symlinks=False):
                        total += e.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    pass
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--ready-file")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    initial = [tree_size(p) for p in a.paths]
    peaks = list(initial)
    total_peak = sum(initial)
    sizes = initial
    n = 0
    if a.ready_file:
        open(a.ready_file, "w").close()
    while True:
        stop = os.path.exists(a.stop_file)
        sizes = [tree_size(p) for p in a.paths]
        peaks = [max(x, y) for x, y in zip(peaks, sizes)]
        total_peak = max(total_peak, sum(sizes))
        n += 1
        if stop:
            break
        time.sleep(a.interval)
    fields = [sum(initial), total_peak, sum(sizes)]
    for i, p, f in zip(initial, peaks, sizes):
        fields += [i, p, f]
    with open(a.out, "w") as f:
        f.write(" ".join(str(x) for x in fields + [n]) + "\n")


if __name__ == "__main__":
    main()
