#!/usr/bin/env python3
"""check_registry.py - check that an image is complete in a plain-HTTP registry: the
manifest of REPO:TAG (and of every instance of an index / manifest list) can be fetched,
and every blob it references answers HEAD 200. Used by scripts/bench.sh after a copy,
so that a tool that exits 0 without pushing everything is not credited with a figure.

Usage: check_registry.py HOST:PORT REPO TAG      (exit 0 = complete; else prints why)
"""
import json
import sys
import urllib.error
import urllib.request

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


def request(url, method="GET"):
    req = urllib.request.Request(url, method=method, headers={"Accept": ACCEPT})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read() if method == "GET" else b""


def check(base, repo, ref, seen):
    m = json.loads(request(f"{base}/v2/{repo}/manifests/{ref}"))
    if "manifests" in m:
        for d in m["manifests"]:
            check(base, repo, d["digest"], seen)
        return
    blobs = [m["config"]] + m.get("layers", [])
    for b in blobs:
        if b["digest"] not in seen:
            request(f"{base}/v2/{repo}/blobs/{b['digest']}", "HEAD")
            seen.add(b["digest"])


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    host, repo, tag = sys.argv[1:]
    seen = set()
    try:
        check(f"http://{host}", repo, tag, seen)
    except (urllib.error.URLError, ValueError, KeyError) as e:
        print(f"{host}/{repo}:{tag}: incomplete ({e})")
        return 1
    print(f"{host}/{repo}:{tag}: complete, {len(seen)} blobs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
