#!/usr/bin/env python3
"""summary.py - the markdown table of scripts/bench.sh: medians per operation and tool,
ratio ferry/skopeo, target check, failures with their stderr tails.

Usage: summary.py RESULTS_TSV OPS_TSV SLACK_MIB [HARNESS_S]
  RESULTS_TSV  raw rows (one per run, see bench.sh for the columns)
  OPS_TSV      op, label, target ratio ("" = none), zero_tmp (1/0), in table order
  HARNESS_S    the measuring wrapper's own wall time, subtracted from both medians for
               the ratio that targets are checked on (default 0)
Prints markdown on stdout.
"""
import csv
import statistics
import sys

MiB = 1024 * 1024


def fmt_time(s):
    if s < 0.1:
        return "%.1f ms" % (s * 1000)
    return "%.3f s" % s if s < 1 else "%.2f s" % s


def fmt_mib(b):
    return "%.0f MiB" % (b / MiB) if b >= MiB or b == 0 else "%.2f MiB" % (b / MiB)


def tail(path, n=4):
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip() for l in f if l.strip()]
    except OSError:
        return ["(no log)"]
    return lines[-n:] or ["(empty stderr)"]


def tool_summary(rows):
    """-> dict(status, wall, rss, tmp, cpu, regcpu, runs, noisy, failed_row)"""
    if not rows:
        return {"status": "not run"}
    bad = [r for r in rows if r["status"] != "ok"]
    ok = [r for r in rows if r["status"] == "ok"]
    # Runs disturbed by other load are left out when there are clean ones.
    ok = [r for r in ok if r["noisy"] != "1"] or ok
    s = {"runs": len(rows), "noisy": sum(r["noisy"] == "1" for r in rows)}
    if bad:
        r = bad[0]
        s["failed_row"] = r
        s["status"] = "n/a (not implemented)" if r["status"] == "notimpl" else "FAILED"
        return s
    s["status"] = "ok"
    s["wall"] = statistics.median(float(r["wall_s"]) for r in ok)
    s["rss"] = statistics.median(float(r["maxrss_kb"]) * 1024 for r in ok)
    s["tmp"] = statistics.median(float(r["tmp_disk_b"]) for r in ok)
    s["tmp_max"] = max(float(r["tmp_disk_b"]) for r in ok)
    s["cpu"] = statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in ok)
    s["regcpu"] = statistics.median(float(r["reg_cpu_s"]) for r in ok)
    s["walls"] = [float(r["wall_s"]) for r in ok]
    return s


def main():
    res, ops_path, slack = sys.argv[1], sys.argv[2], float(sys.argv[3]) * MiB
    harness = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    rows = list(csv.DictReader(open(res), delimiter="\t"))
    ops = list(csv.reader(open(ops_path), delimiter="\t"))
    out = [
        "| operation | ferry median | skopeo median | ratio | raw | target | ferry RSS | skopeo RSS "
        "| ferry tmp disk | skopeo tmp disk | met? | ferry CPU | skopeo CPU | runs (noisy) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    failures = []
    for op, label, target, zero_tmp in ops:
        f = tool_summary([r for r in rows if r["op"] == op and r["tool"] == "ferry"])
        k = tool_summary([r for r in rows if r["op"] == op and r["tool"] == "skopeo"])
        if f["status"] == "not run" and k["status"] == "not run":
            continue
        def cell(s, key, fn, first=False):
            if s["status"] == "ok":
                return fn(s[key])
            return s["status"] if first else "—"
        both = f["status"] == "ok" and k["status"] == "ok" and k["wall"] > harness
        raw = f["wall"] / k["wall"] if both else None
        ratio = max(f["wall"] - harness, 0.0) / (k["wall"] - harness) if both else None
        tgt = ""
        if target:
            tgt = "<= %s" % target + (" and 0 tmp" if zero_tmp == "1" else "")
        if not target and zero_tmp == "1":
            tgt = "0 tmp"
        if not target and (zero_tmp != "1" or f["status"] != "ok"):
            met = "—"
        elif not target:
            met = "yes" if f["tmp_max"] <= slack else "no (tmp)"
        elif f["status"] != "ok":
            met = "no (%s)" % ("not implemented" if f["status"].startswith("n/a") else "failed")
        elif ratio is None:
            met = "? (skopeo %s)" % k["status"]
        else:
            why = []
            if ratio > float(target):
                why.append("ratio")
            if zero_tmp == "1" and f["tmp_max"] > slack:
                why.append("tmp")
            met = "yes" if not why else "no (%s)" % ", ".join(why)
        runs = []
        for name, s in (("f", f), ("s", k)):
            if "runs" in s:
                runs.append("%s %d (%d)" % (name, s["runs"], s["noisy"]))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label,
            cell(f, "wall", fmt_time, True), cell(k, "wall", fmt_time, True),
            "%.2f" % ratio if ratio is not None else "—",
            "%.2f" % raw if raw is not None else "—",
            tgt or "—",
            cell(f, "rss", fmt_mib), cell(k, "rss", fmt_mib),
            cell(f, "tmp", fmt_mib), cell(k, "tmp", fmt_mib),
            met,
            cell(f, "cpu", lambda c: "%.2f s" % c), cell(k, "cpu", lambda c: "%.2f s" % c),
            ", ".join(runs)))
        for name, s in (("ferry", f), ("skopeo", k)):
            if "failed_row" in s:
                r = s["failed_row"]
                failures.append("- %s, %s (run %s, exit %s%s): %s" % (
                    label, name, r["run"], r["rc"],
                    ", " + r["check"] if r.get("check") else "",
                    " / ".join("`%s`" % l.replace("`", "'")[:300] for l in tail(r["log"]))))
    print("\n".join(out))
    if failures:
        print("\nFailures (stderr tail):\n")
        print("\n".join(failures))
    loads = [float(r[k]) for r in rows for k in ("load1_before", "load1_after") if r.get(k)]
    noisy = sum(r["noisy"] == "1" for r in rows)
    if loads:
        print("\nLoad average (1 min) around the runs: %.2f-%.2f; %d of %d runs were noisy "
              "(foreign CPU > 10%% of wall x CPUs). \"runs (noisy)\": runs per tool (f = ferry, "
              "s = skopeo) and how many of them were noisy; medians use the clean runs when there "
              "are any." % (min(loads), max(loads), noisy, len(rows)))


if __name__ == "__main__":
    main()
