#!/usr/bin/env python3
"""Parallel-beam CT projector peers, measured in the same session as
bench_ct: scikit-image's radon / iradon and ASTRA Toolbox's CPU projectors
(FP, BP and FBP with the 'linear' (Joseph), 'line' and 'strip' projectors).
For each case the peers run, then bench/bench_ct --csv right after (so both
see the same machine); one Markdown table at the end gives every peer's time
and the ratio (our GUPS / the peer's). "ours CPU ms" is bench_ct's CPU time per
call: about 2 x ours ms on an otherwise idle 2-core machine.

    python3 -m venv --system-site-packages .venv-bench   # sees Debian's skimage
    .venv-bench/bin/pip install astra-toolbox
    .venv-bench/bin/python bench/peers_ct.py --bench build-ct/bench/bench_ct

Cases: N in {256, 512}, {180, 360} views over [0, π), batch 1 and 32; default
detector ceil(√2 N) bins (scikit-image's circle=False). Peers have no batch:
for batch 32 their time per slice (batch-1 median) is compared with ours per
slice, i.e. the ratio of GUPS (N² views slices / s). Times are medians of
--repeats calls after one warm-up. --quick: only 256², 180 views.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def median_time(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def phantom(n):
    y, x = np.mgrid[:n, :n]
    q = ((x - n // 2) / (0.4 * n)) ** 2 + ((y - n // 2) / (0.3 * n)) ** 2
    return np.where(q < 1, 1 - q, 0).astype(np.float32)


def skimage_peers(n, k, repeats):
    from skimage.transform import iradon, radon
    img = phantom(n).astype(np.float64)
    theta = np.arange(k) * 180.0 / k
    sino = radon(img, theta=theta, circle=False)
    out = {}
    out[("radon", "scikit-image radon")] = median_time(
        lambda: radon(img, theta=theta, circle=False), repeats)
    out[("fbp", "scikit-image iradon")] = median_time(
        lambda: iradon(sino, theta=theta, circle=False, filter_name="ramp"), repeats)
    return out


def astra_peers(n, k, repeats, projectors):
    import astra
    n_det = int(np.ceil(np.sqrt(2) * n))
    vol = astra.create_vol_geom(n, n)
    proj = astra.create_proj_geom("parallel", 1.0, n_det, np.arange(k) * np.pi / k)
    img = phantom(n)
    out = {}
    for name in projectors:
        pid = astra.create_projector(name, proj, vol)
        vid = astra.data2d.create("-vol", vol, img)
        sid = astra.data2d.create("-sino", proj, 0)
        algs = []
        for op, alg in (("radon", "FP"), ("backproject", "BP"), ("fbp", "FBP")):
            cfg = astra.astra_dict(alg)
            cfg["ProjectorId"] = pid
            cfg["ProjectionDataId"] = sid
            if alg == "FP":
                cfg["VolumeDataId"] = vid
            else:
                cfg["ReconstructionDataId"] = vid
            if alg == "FBP":
                cfg["FilterType"] = "Ram-Lak"
            aid = astra.algorithm.create(cfg)
            algs.append(aid)
            # FP runs first and leaves the phantom's sinogram for BP and FBP.
            out[(op, "ASTRA CPU %s" % name)] = median_time(
                lambda aid=aid: astra.algorithm.run(aid), repeats)
        for aid in algs:
            astra.algorithm.delete(aid)
        astra.data2d.delete([vid, sid])
        astra.projector.delete(pid)
    return out


def run_ours(bench, n, k, batches, repeats, threads):
    """bench_ct --csv for one (N, views): {(backend, op, batch): (ms, gups, cpu_ms)}."""
    cmd = [bench, "--backend", "all", "--csv", "--sizes", str(n), "--angles", str(k),
           "--batches", ",".join(map(str, batches)), "--repeats", str(repeats)]
    if threads:
        cmd += ["--threads", str(threads)]
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows, notes = {}, []
    for line in text.splitlines():
        if line.startswith("#"):
            notes.append(line.lstrip("# ").strip())
            continue
        if line.startswith("backend,"):
            continue
        dev, op, _, _, b, ms, gups, cpu_ms = line.split(",")[:8]
        rows[(dev, op, int(b))] = (float(ms), float(gups), float(cpu_ms))
    return rows, notes


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default="build-ct/bench/bench_ct")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--projectors", default="linear,line,strip")
    args = ap.parse_args()
    sizes, angles, batches = ([256], [180], [1]) if args.quick else ([256, 512], [180, 360], [1, 32])
    print("# machine: %d CPUs; load average before: %s" % (os.cpu_count(), loadavg()))
    rows = []
    for n in sizes:
        for k in angles:
            # Peers and ours back to back for each case, so that both see the
            # same machine.
            peers = skimage_peers(n, k, args.repeats)
            try:
                peers.update(astra_peers(n, k, args.repeats, args.projectors.split(",")))
            except ImportError:
                print("# astra-toolbox not installed: ASTRA peers skipped")
            ours, notes = run_ours(args.bench, n, k, batches, args.repeats, args.threads)
            print("# N %d, %d views: load average %s; bench_ct: %s" %
                  (n, k, loadavg(), "; ".join(notes[1:])))
            for (dev, op, b), mine in sorted(ours.items()):
                rows.append((dev, op, n, k, b, mine, [(p, t) for (o, p), t in peers.items()
                                                      if o == op]))
    print("# load average after: %s" % loadavg())
    print()
    names = ["scikit-image radon", "scikit-image iradon"] + [
        "ASTRA CPU %s" % p for p in args.projectors.split(",")]
    print("| backend | op | N | views | batch | ours ms | GUPS | CPU ms | " +
          " | ".join("%s ms/slice (ratio)" % n for n in names) + " |")
    print("|---|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(names))
    for dev, op, n, k, b, (ms, gups, cpu_ms), mine in sorted(rows, key=lambda r: r[:5]):
        cells = []
        for name in names:
            t = dict(mine).get(name)
            if t is None:
                cells.append("")
            else:
                peer_gups = n * n * k / (t * 1e-3) / 1e9
                cells.append("%.1f (%.1f×)" % (t, gups / peer_gups))
        print("| %s | %s | %d | %d | %d | %.2f | %.3f | %.1f | %s |" %
              (dev, op, n, k, b, ms, gups, cpu_ms, " | ".join(cells)))


if __name__ == "__main__":
    sys.exit(main())
