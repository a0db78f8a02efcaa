#!/usr/bin/env python3
"""Quality benchmark of scorerecon (issue 10, item 4): PSNR / SSIM of the
score-based sampler (both consistency modes) against FBP / zero-filled and TV
on the held-out slices of the shipped models' data, everything through the
CLI (`scorerecon simulate`, `reconstruct`, `eval`).

Protocol (bench/quality/README.md has the long form):
  data     held-out slices at 128^2 with the models' own preprocessing
           (tools/training_data.py): CT Cranium slices 80-107 (K picked
           evenly), MRI Colin27 z 110-129; TV weights tuned on training slices.
  CT       parallel beam, 23 and 10 of 128 views (full scan = image side, as
           the paper's code ties them), simulated from the 2x finer image and
           detector (no inverse crime), noise-free and Poisson (I0 photons per
           ray, fixed attenuation scale).
  MRI      single-coil Cartesian, 4x and 8x: the paper's equispaced column
           mask (n_keep = 128 / R) and fastMRI's random column mask
           (centre fraction 0.08 at 4x, 0.04 at 8x).
  seeds    one seed per setting, --seeds-sparsest at the sparsest setting of
           each task (10 views, 8x); the seed drives the measurement noise,
           the random mask and the sampler.
  metrics  every reconstruction clipped to the model's value range (CT
           x in [0, 2] = -1000...3000 HU, MRI [0, 1]), then PSNR / SSIM with
           that range as data range (`scorerecon eval`); CT also in the
           soft-tissue window -160...240 HU (x in [0.42, 0.62], data range 0.2).

Usage: bench/quality/run.sh [--steps N] [--slices K] [--jobs J] [--quick]
       [--estimate] [--update-docs] ...   (run.py --help for all options)
"""
import argparse
import concurrent.futures as cf
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import training_data  # noqa: E402

CT_MODEL = "weights/ct_head_128.safetensors"
MRI_MODEL = "weights/mri_colin27_128.safetensors"
CT_RANGE = (0.0, 2.0)                 # x = (HU + 1000) / 2000: -1000 ... 3000 HU
CT_SOFT_HU = (-160.0, 240.0)          # soft-tissue window
MRI_RANGE = (0.0, 1.0)
# Physical attenuation per unit of sinogram (x * pixel): mu = mu_water (1 + HU / 1000)
# = 2 mu_water x, mu_water = 0.0193 / mm (~70 keV), pixel 1.914 mm at 128^2.
CT_ATTEN = 2 * 0.0193 * 1.914
TV_GRID = [2.0 ** e for e in range(-4, 5)]   # x the CLI's default weight (CT 0.5, MRI 0.002)
TV_DEFAULT = {"ct": 0.5, "mri": 0.002}
TV_CACHE = os.path.join(HERE, "tv_weights.json")
MIN_AUTO_STEPS = 50   # CT at N <= 40 diverges with the ~350-step checkpoints (README)
RESULTS_BEGIN = "<!-- quality-bench:begin -->"
RESULTS_END = "<!-- quality-bench:end -->"


def hu_to_x(hu):
    return (hu + 1000.0) / 2000.0


# ---------------------------------------------------------------- settings

def settings(a):
    """The benchmark's measurement settings: name, task, simulate arguments,
    label, whether it is the sparsest of its task, seeds."""
    out = []
    sp_seeds = list(range(1, a.seeds_sparsest + 1))
    for views in (23, 10):
        for noisy in (False, True):
            sim = ["ct", "--views", str(views)]
            if noisy:
                sim += ["--i0", f"{a.i0:g}", "--atten-scale", f"{CT_ATTEN:.6g}"]
            sparsest = views == 10
            target = sparsest and not noisy
            out.append({
                "name": f"ct_v{views}_{'i0' if noisy else 'clean'}", "task": "ct",
                "views": views, "noisy": noisy, "sim": sim, "sparsest": sparsest, "target": target,
                "label": f"CT {views}/128 views, " + (f"Poisson I0 {a.i0:g}" if noisy else "noise-free"),
                "seeds": sp_seeds if target or (sparsest and a.seeds_all_sparsest) else [1]})
    for accel in (4, 8):
        for mask in ("equispaced", "random"):
            if mask == "equispaced":
                sim = ["mri", "--mask", "paper", "--n-keep", str(128 // accel)]
                label = f"MRI {accel}x, paper equispaced (n_keep {128 // accel})"
            else:
                cf_ = 0.08 if accel == 4 else 0.04
                sim = ["mri", "--mask", "random", "--accel", str(accel), "--center-fraction", str(cf_)]
                label = f"MRI {accel}x, fastMRI random (centre {cf_:g})"
            sparsest = accel == 8
            target = sparsest and mask == "equispaced"
            out.append({
                "name": f"mri_r{accel}_{mask[:4]}", "task": "mri", "accel": accel, "mask": mask,
                "sim": sim, "sparsest": sparsest, "target": target, "label": label,
                "seeds": sp_seeds if target or (sparsest and a.seeds_all_sparsest) else [1]})
    if a.only:
        keep = set(a.only.split(","))
        out = [s for s in out if s["name"] in keep or s["task"] in keep]
    return out


# ---------------------------------------------------------------- helpers

class Runner:
    def __init__(self, a):
        self.a = a
        self.sr = os.path.join(ROOT, a.build, "scorerecon")
        if not os.access(self.sr, os.X_OK):
            sys.exit(f"quality: {self.sr} not found: build first (cmake --build {a.build})")

    def run(self, args, log=None, check=True):
        cmd = [self.sr] + [str(x) for x in args]
        t0 = time.time()
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        dt = time.time() - t0
        if log:
            with open(log, "w") as f:
                f.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
                f.write(p.stdout)
                f.write(p.stderr)
                f.write(f"# wall {dt:.2f} s, rc {p.returncode}\n")
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
        return p, dt


def save(path, arr):
    tmp = path + ".tmp.npy"
    np.save(tmp, np.ascontiguousarray(arr, dtype=np.float32))
    os.replace(tmp, path)


def eval_metrics(runner, ref, rec, lo, hi, tmpdir, tag):
    """Per-slice (PSNR, SSIM) of rec against ref, both clipped to [lo, hi],
    data range hi - lo, by `scorerecon eval`."""
    rp, xp = os.path.join(tmpdir, f"{tag}_ref.npy"), os.path.join(tmpdir, f"{tag}_rec.npy")
    save(rp, np.clip(ref, lo, hi))
    save(xp, np.clip(rec, lo, hi))
    p, _ = runner.run(["eval", "--ref", rp, "--in", xp, "--data-range", f"{hi - lo:.9g}"])
    psnr, ssim = [], []
    for line in p.stdout.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", line)
        if m:
            psnr.append(float(m.group(2)))
            ssim.append(float(m.group(3)))
    os.remove(rp)
    os.remove(xp)
    if len(psnr) != ref.shape[0]:
        raise RuntimeError(f"eval printed {len(psnr)} slices, expected {ref.shape[0]}:\n{p.stdout}")
    return np.array(psnr), np.array(ssim)


def metrics(runner, task, ref, rec, tmpdir, tag):
    lo, hi = CT_RANGE if task == "ct" else MRI_RANGE
    out = {}
    out["psnr"], out["ssim"] = eval_metrics(runner, ref, rec, lo, hi, tmpdir, tag)
    if task == "ct":
        wlo, whi = hu_to_x(CT_SOFT_HU[0]), hu_to_x(CT_SOFT_HU[1])
        out["psnr_soft"], out["ssim_soft"] = eval_metrics(runner, ref, rec, wlo, whi, tmpdir, tag + "_w")
    return {k: v.tolist() for k, v in out.items()}


def pick(n_total, k):
    return sorted(set(int(round(v)) for v in np.linspace(0, n_total - 1, k)))


# ---------------------------------------------------------------- stages

def head_slices(task, x, idx):
    """Held-out slices that show the head: CT slices 104-107 are the skull cap
    and the air above it (under 5 % of the pixels above -400 HU), left out."""
    if task != "ct":
        return list(range(len(idx)))
    return [i for i in range(len(idx)) if float((x[i] > hu_to_x(-400.0)).mean()) >= 0.05]


def prepare_data(a, work):
    info = {}
    for task in ("ct", "mri"):
        test, idx = training_data.load(task, "test")
        cand = head_slices(task, test, idx)
        sel = [cand[i] for i in pick(len(cand), min(a.slices, len(cand)))]
        save(os.path.join(work, f"{task}_test.npy"), test[sel])
        train, tidx = training_data.load(task, "train")
        tsel = pick(len(tidx), a.tv_train_slices)
        save(os.path.join(work, f"{task}_train.npy"), train[tsel])
        info[task] = {"test_slices": [idx[i] for i in sel], "tv_train_slices": [tidx[i] for i in tsel]}
    return info


def simulate(runner, a, s, images, seed, out):
    if os.path.exists(out) and not a.fresh:
        return
    tmp = out[:-3] + ".tmp.h5"
    runner.run(["simulate"] + s["sim"][1:] + [s["sim"][0], "--in", images, "--out", tmp,
                                               "--seed", seed], log=out[:-3] + ".log")
    os.replace(tmp, out)


def tv_args(a, task, weight):
    return ["--method", "tv", "--iters", a.tv_iters, "--tv-weight", f"{weight:.6g}", "--nonneg",
            "--threads", a.threads, "-d", a.device]


def tune_tv(runner, a, sets, work):
    """TV weight per setting: a grid (x the CLI default) on training slices,
    best mean PSNR in the model's range; cached in bench/quality/tv_weights.json."""
    cache_path = os.path.join(work, "tv_weights.json") if a.quick else TV_CACHE
    cache = json.load(open(cache_path)) if os.path.exists(cache_path) else {}
    grid = [1.0, 4.0] if a.quick else TV_GRID
    weights = {}
    for s in sets:
        key = f"{s['name']}|{' '.join(s['sim'])}|iters {a.tv_iters}|train {a.tv_train_slices}"
        if key in cache and not a.retune:
            weights[s["name"]] = cache[key]["weight"]
            continue
        task = s["task"]
        train = np.load(os.path.join(work, f"{task}_train.npy"))
        meas = os.path.join(work, "meas", f"tvtune_{s['name']}.h5")
        simulate(runner, a, s, os.path.join(work, f"{task}_train.npy"), 1000, meas)
        scores = {}
        for g in grid:
            w = TV_DEFAULT[task] * g
            out = os.path.join(work, "tmp", f"tvtune_{s['name']}_{g:g}.npy")
            runner.run(["reconstruct", "--in", meas, "--out", out] + tv_args(a, task, w))
            m = metrics(runner, task, train, np.load(out), os.path.join(work, "tmp"), "tune")
            scores[w] = float(np.mean(m["psnr"]))
            os.remove(out)
        best = max(scores, key=scores.get)
        weights[s["name"]] = best
        cache[key] = {"weight": best, "grid_psnr": {f"{w:.6g}": v for w, v in sorted(scores.items())},
                      "train_slices": a.tv_train_slices}
        edge = " (at the grid's edge)" if best in (min(scores), max(scores)) else ""
        print(f"quality: TV weight {s['name']}: {best:.6g}{edge}, training PSNR "
              f"{scores[best]:.2f} dB", flush=True)
        tmp = cache_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cache, f, indent=1, sort_keys=True)
        os.replace(tmp, cache_path)
    return weights


def score_args(a, task, mode, seed, steps):
    args = ["--method", "score", "--model", CT_MODEL if task == "ct" else MRI_MODEL,
            "--consistency", mode, "--steps", steps, "--seed", seed, "--threads", a.threads,
            "-d", a.device, "--batch", a.batch, "--no-clip"]
    if a.sampler_args:
        args += shlex.split(a.sampler_args)
    return args


def calibrate(runner, a, work):
    """Seconds per slice per noise level of the score sampler, per task and
    consistency mode, for one of --jobs CLI calls running at once: the
    difference of a short and a longer run on one slice (model loading and the
    final step cancel), each run as --jobs identical copies side by side (so
    the cores are as busy as in the benchmark), their mean."""
    cal = {}
    lo, hi = (1, 3) if a.quick else (2, 8)
    for task in ("ct", "mri"):
        s = [x for x in settings_all(a) if x["task"] == task and x["sparsest"]][0]
        one = os.path.join(work, "tmp", f"cal_{task}.npy")
        save(one, np.load(os.path.join(work, f"{task}_test.npy"))[:1])
        meas = os.path.join(work, "meas", f"cal_{task}.h5")
        simulate(runner, a, s, one, 1, meas)
        for mode in ("paper", "exact"):
            t = []
            for n in (lo, hi):
                def one_run(k):
                    _, dt = runner.run(["reconstruct", "--in", meas, "--out",
                                        os.path.join(work, "tmp", f"cal_out{k}.npy"), "-q"]
                                       + score_args(a, task, mode, 1, n))
                    return dt
                with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
                    t.append(float(np.mean(list(ex.map(one_run, range(a.jobs))))))
            cal[f"{task}_{mode}"] = max((t[1] - t[0]) / (hi - lo), 1e-3)
    return cal


def settings_all(a):
    class A:
        pass
    b = A()
    b.__dict__.update(vars(a))
    b.only = ""
    return settings(b)


def estimate(a, sets, cal, steps, info):
    """Sampler seconds of one job for the whole run (all settings, seeds, modes)."""
    work_s = 0.0
    for s in sets:
        n = len(info[s["task"]]["test_slices"])
        for mode in ("paper", "exact"):
            work_s += cal[f"{s['task']}_{mode}"] * steps * n * len(s["seeds"])
    return work_s


def run_jobs(runner, a, jobs):
    """jobs: list of (out_npy, args, est_seconds). Longest first, a.jobs at once;
    an existing output with its .done marker is reused (resumable runs)."""
    todo = []
    for out, args, est in jobs:
        done = out + ".done"
        sig = " ".join(str(x) for x in args)
        if os.path.exists(out) and os.path.exists(done) and open(done).read() == sig and not a.fresh:
            continue
        todo.append((out, args, est, sig))
    todo.sort(key=lambda j: -j[2])
    t0 = time.time()
    n = len(todo)

    def one(j):
        out, args, _, sig = j
        _, dt = runner.run(["reconstruct", "--in"] + args + ["--out", out], log=out[:-4] + ".log")
        with open(out + ".done", "w") as f:
            f.write(sig)
        return out, dt

    with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        for i, fut in enumerate(cf.as_completed([ex.submit(one, j) for j in todo])):
            out, dt = fut.result()
            print(f"quality: [{i + 1}/{n}] {os.path.basename(out)} {dt:.1f} s "
                  f"(elapsed {time.time() - t0:.0f} s)", flush=True)


def parse_sampler_header(log):
    """N, snr, lambda, consistency method from a reconstruct log."""
    if not os.path.exists(log):
        return None
    txt = open(log).read()
    m = re.search(r"consistency \(([^)]*)\), N = (\d+), snr (\S+), lambda (\S+), batch (\d+), on (\S+)", txt)
    t = re.search(r"in ([\d.]+) s \(([\d.]+) s per slice per sample", txt)
    if not m:
        return None
    return {"method": m.group(1), "N": int(m.group(2)), "snr": float(m.group(3)),
            "lambda": float(m.group(4).rstrip(",")), "batch": int(m.group(5)), "backend": m.group(6),
            "seconds": float(t.group(1)) if t else None,
            "s_per_slice": float(t.group(2)) if t else None}


# ---------------------------------------------------------------- report

def ms(v):
    v = np.asarray(v, float)
    return f"{v.mean():.2f} ± {v.std():.2f}" if len(v) else "–"


def ms3(v):
    v = np.asarray(v, float)
    return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) else "–"


METHODS = [("base", None), ("tv", None), ("score_paper", "paper"), ("score_exact", "exact")]


def per_slice_mean(res, s, method, key):
    """(slices,) metric averaged over the setting's seeds."""
    return np.mean([res[s["name"]][str(seed)][method][key] for seed in s["seeds"]], axis=0)


def pooled(res, s, method, key):
    return np.concatenate([res[s["name"]][str(seed)][method][key] for seed in s["seeds"]])


def report(a, sets, res, info, tvw, cal, steps, headers, wall):
    L = []
    sh = next((h for h in headers.values() if h), None)
    L.append(f"Held-out slices: CT Cranium {info['ct']['test_slices']} "
             f"({len(info['ct']['test_slices'])}), MRI Colin27 z {info['mri']['test_slices']} "
             f"({len(info['mri']['test_slices'])}); 128², the models' preprocessing "
             f"(tools/training_data.py). Models: `{CT_MODEL}`, `{MRI_MODEL}`.")
    L.append("")
    ps = {k: v for k, v in (headers or {}).items() if v}
    desc = []
    for k, h in sorted(ps.items()):
        desc.append(f"{k}: N = {h['N']}, snr {h['snr']:g}, λ {h['lambda']:g}, {h['method']}")
    L.append(f"Sampler: reverse-diffusion predictor + 1 Langevin corrector step per level "
             f"(the CLI's presets: ct320 for CT, brats240 for MRI), **N = {steps}** noise levels, "
             f"one sample per slice, `--no-clip`; extra sampler options: "
             f"`{a.sampler_args or 'none'}`. " + "; ".join(sorted(set(desc))) + ".")
    L.append(f"Baselines: FBP (ram-lak) / zero-filled; TV: Chambolle–Pock, {a.tv_iters} iterations, "
             f"x ≥ 0, weight tuned per setting on {a.tv_train_slices} training slices "
             f"({', '.join(f'{k} {v:.3g}' for k, v in tvw.items())}).")
    L.append(f"Seeds: 1 per setting, {a.seeds_sparsest} at the sparsest setting of each task (CT 10 "
             f"views noise-free, MRI 8× paper mask{'; and at every 10-view / 8× setting' if a.seeds_all_sparsest else ''}); "
             f"the seed drives the noise, the random mask and the sampler. Mean ± std over slices × seeds.")
    L.append("All reconstructions clipped to the model's range before scoring: CT x ∈ [0, 2] "
             "(−1000…3000 HU; PSNR/SSIM data range 2), MRI [0, 1] (data range 1). CT soft tissue: "
             f"both images clipped to {CT_SOFT_HU[0]:g}…{CT_SOFT_HU[1]:g} HU, data range 400 HU.")
    L.append("")
    cols = ["FBP / zero-filled", "TV", "score (paper)", "score (exact)"]
    for key, title, fmt in (("psnr", "PSNR (dB), model range", ms),
                            ("psnr_soft", "CT PSNR (dB), soft-tissue window −160…240 HU", ms),
                            ("ssim", "SSIM, model range", ms3)):
        L.append(f"**{title}**")
        L.append("")
        L.append("| setting | n | " + " | ".join(cols) + " | score > TV, slices (paper / exact) |")
        L.append("|---|---:|" + "---|" * len(cols) + "---|")
        for s in sets:
            if key == "psnr_soft" and s["task"] != "ct":
                continue
            n = len(info[s["task"]]["test_slices"]) * len(s["seeds"])
            cells = [fmt(pooled(res, s, m, key)) for m, _ in METHODS]
            tv = per_slice_mean(res, s, "tv", key)
            wins = []
            for m in ("score_paper", "score_exact"):
                sc = per_slice_mean(res, s, m, key)
                wins.append(f"{int((sc > tv).sum())}/{len(tv)}")
            L.append(f"| {s['label']} | {n} | " + " | ".join(cells) + f" | {' / '.join(wins)} |")
        L.append("")
    # Targets
    L.append("**Target (a)**: scorerecon ≥ TV + 1 dB PSNR (model range) at the sparsest setting of "
             "each task (CT 10 views noise-free, MRI 8× paper mask; the other 10-view / 8× rows for "
             "information), on the mean and on ≥ 3/4 of the held-out slices (per slice: mean over seeds).")
    L.append("")
    L.append("| sparsest setting | mode | mean Δ vs TV (dB) | slices with Δ ≥ 1 dB | met |")
    L.append("|---|---|---:|---:|---|")
    verdict = {}
    for s in sets:
        if not s["sparsest"]:
            continue
        tv = per_slice_mean(res, s, "tv", "psnr")
        for m in ("score_paper", "score_exact"):
            d = per_slice_mean(res, s, m, "psnr") - tv
            ok = bool(d.mean() >= 1.0 and (d >= 1.0).sum() >= math.ceil(0.75 * len(d)))
            verdict[(s["name"], m)] = ok
            name = f"**{s['label']}**" if s["target"] else s["label"]
            L.append(f"| {name} | {m[6:]} | {d.mean():+.2f} | {int((d >= 1.0).sum())}/{len(d)} "
                     f"| {'yes' if ok else 'no'} |")
    L.append("")
    by = {s["name"]: s for s in sets}
    if all(k in by for k in ("ct_v10_clean", "ct_v23_clean")):
        L.append("**Target (b)** (the paper's headline; reported, not required), CT noise-free, "
                 "PSNR model range / soft-tissue window:")
        L.append("")
        tv23 = pooled(res, by["ct_v23_clean"], "tv", "psnr")
        tv23w = pooled(res, by["ct_v23_clean"], "tv", "psnr_soft")
        for m in ("score_paper", "score_exact"):
            for v in ("ct_v10_clean", "ct_v23_clean"):
                sc = pooled(res, by[v], m, "psnr")
                scw = pooled(res, by[v], m, "psnr_soft")
                L.append(f"- score ({m[6:]}) from {by[v]['views']} views: {sc.mean():.2f} dB "
                         f"/ {scw.mean():.2f} dB vs TV from 23 views {tv23.mean():.2f} / "
                         f"{tv23w.mean():.2f} dB: Δ {sc.mean() - tv23.mean():+.2f} / "
                         f"{scw.mean() - tv23w.mean():+.2f} dB")
        L.append("")
    if cal:
        L.append("Cost: " + ", ".join(f"{k} {v:.3f} s per slice per level" for k, v in sorted(cal.items()))
                 + f" (calibration, {a.device}, {a.threads} thread(s)); whole run {wall / 60:.0f} min "
                 f"wall with {a.jobs} job(s).")
    L.append("")
    L.append("Reproduce: `bash bench/quality/run.sh " + " ".join(a.argv_echo) + "`")
    return "\n".join(L) + "\n", verdict


def update_docs(table):
    block = f"{RESULTS_BEGIN}\n{table}{RESULTS_END}\n"
    for path, head in ((os.path.join(ROOT, "bench", "RESULTS.md"), "## Quality (issue 10)\n\n"),
                       (os.path.join(ROOT, "README.md"), "## Reconstruction quality\n\n")):
        txt = open(path).read()
        if RESULTS_BEGIN in txt and RESULTS_END in txt:
            i, j = txt.index(RESULTS_BEGIN), txt.index(RESULTS_END) + len(RESULTS_END) + 1
            txt = txt[:i] + block + txt[j:]
        else:
            txt = txt.rstrip("\n") + "\n\n" + head + block
        with open(path + ".tmp", "w") as f:
            f.write(txt)
        os.replace(path + ".tmp", path)
        print(f"quality: table written to {path}")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory holding scorerecon")
    ap.add_argument("--out", default=None, help="work directory (default: out/quality[-quick])")
    ap.add_argument("--steps", type=int, default=0,
                    help="noise levels N of the sampler (0: 1000 with a GPU; on the CPU the largest "
                         "multiple of 10 that fits --hours by the calibration, at least 50)")
    ap.add_argument("--hours", type=float, default=2.0, help="CPU time budget that picks N (wall)")
    ap.add_argument("--slices", type=int, default=20, help="held-out slices per task")
    ap.add_argument("--seeds-sparsest", type=int, default=3,
                    help="seeds at the target settings (CT 10 views noise-free, MRI 8x paper mask)")
    ap.add_argument("--seeds-all-sparsest", action="store_true",
                    help="--seeds-sparsest also at the other sparsest settings (Poisson, random mask)")
    ap.add_argument("--jobs", type=int, default=0, help="CLI calls at once (0: cores on the CPU, 1 with a GPU)")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads per CLI call")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--batch", type=int, default=0, help="sampler batch (0: the CLI's auto)")
    ap.add_argument("--i0", type=float, default=1e4, help="CT Poisson noise: photons per ray")
    ap.add_argument("--tv-iters", type=int, default=300)
    ap.add_argument("--tv-train-slices", type=int, default=4)
    ap.add_argument("--retune", action="store_true", help="ignore the cached TV weights")
    ap.add_argument("--sampler-args", default="", help="extra reconstruct options for --method score")
    ap.add_argument("--only", default="", help="comma list of settings or tasks (ct, mri, ct_v10_clean, ...)")
    ap.add_argument("--quick", action="store_true", help="plumbing check: 2 slices, 2 seeds, 3 levels")
    ap.add_argument("--estimate", action="store_true", help="calibrate, print the run time and stop")
    ap.add_argument("--fresh", action="store_true", help="recompute outputs that exist")
    ap.add_argument("--update-docs", action="store_true",
                    help="write the table into bench/RESULTS.md and README.md (marked block)")
    a = ap.parse_args()
    a.argv_echo = sys.argv[1:]
    gpu = False
    if a.device != "cpu":
        p = subprocess.run([os.path.join(ROOT, a.build, "scorerecon"), "version"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        gpu = bool(re.search(r"^GPU: (?!none)", p.stdout, re.M))
    if a.quick:
        a.slices, a.seeds_sparsest, a.tv_iters, a.tv_train_slices = 2, 2, 50, 2
        a.steps = a.steps or 3
    if gpu and a.steps <= 0:
        a.steps = 1000
    if a.jobs <= 0:
        a.jobs = 1 if gpu else (os.cpu_count() or 1)
    work = os.path.join(ROOT, a.out or ("out/quality-quick" if a.quick else "out/quality"))
    for d in ("", "meas", "recon", "tmp"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    runner = Runner(a)
    t0 = time.time()
    sets = settings(a)
    print(f"quality: {len(sets)} settings, {a.slices} slices, N = {a.steps or 'auto'}, {a.jobs} job(s) x "
          f"{a.threads} thread(s), device {a.device}{' (GPU found)' if gpu else ''} -> {work}", flush=True)
    info = prepare_data(a, work)

    cal = calibrate(runner, a, work)
    if a.steps <= 0:
        per_level = estimate(a, sets, cal, 1, info) / a.jobs
        fit = int(a.hours * 3600 * 0.95 / per_level) // 10 * 10
        a.steps = max(MIN_AUTO_STEPS, fit)
        print(f"quality: N = {a.steps}: {fit} fit {a.hours:g} h ({per_level:.0f} s wall per level "
              f"with {a.jobs} jobs); at least {MIN_AUTO_STEPS}, below which the CT sampler of the "
              f"early checkpoints does not converge", flush=True)
    total = estimate(a, sets, cal, a.steps, info)
    print("quality: sampler cost per slice per level and job: "
          + ", ".join(f"{k} {v:.3f} s" for k, v in sorted(cal.items())), flush=True)
    print(f"quality: estimated sampler time {total / a.jobs / 3600:.2f} h wall with {a.jobs} job(s) "
          f"of {a.threads} thread(s) (calibrated with {a.jobs} at once)", flush=True)
    if a.estimate:
        for n in (50, 100, 200, 500, 1000):
            print(f"  N = {n:4d}: {estimate(a, sets, cal, n, info) / a.jobs / 3600:.2f} h wall")
        return 0

    # simulate the held-out data
    for s in sets:
        for seed in s["seeds"]:
            simulate(runner, a, s, os.path.join(work, f"{s['task']}_test.npy"), seed,
                     os.path.join(work, "meas", f"{s['name']}_s{seed}.h5"))
    tvw = tune_tv(runner, a, sets, work)

    jobs = []
    rec = lambda s, seed, m: os.path.join(work, "recon", f"{s['name']}_s{seed}_{m}.npy")  # noqa: E731
    for s in sets:
        for seed in s["seeds"]:
            meas = os.path.join(work, "meas", f"{s['name']}_s{seed}.h5")
            base = "fbp" if s["task"] == "ct" else "zero-filled"
            jobs.append((rec(s, seed, "base"), [meas, "--method", base, "--threads", a.threads,
                                                 "-d", a.device], 1.0))
            jobs.append((rec(s, seed, "tv"), [meas] + tv_args(a, s["task"], tvw[s["name"]]), 2.0))
            for mode in ("paper", "exact"):
                jobs.append((rec(s, seed, f"score_{mode}"),
                             [meas] + score_args(a, s["task"], mode, seed, a.steps),
                             cal[f"{s['task']}_{mode}"] * a.steps * len(info[s["task"]]["test_slices"])))
    run_jobs(runner, a, jobs)

    res, headers = {}, {}
    for s in sets:
        ref = np.load(os.path.join(work, f"{s['task']}_test.npy"))
        res[s["name"]] = {}
        for seed in s["seeds"]:
            r = res[s["name"]][str(seed)] = {}
            for m, mode in METHODS:
                path = rec(s, seed, m)
                r[m] = metrics(runner, s["task"], ref, np.load(path), os.path.join(work, "tmp"), "m")
                if mode:
                    headers[f"{s['task']} {mode}"] = parse_sampler_header(path[:-4] + ".log")
                    r[m]["sampler"] = headers[f"{s['task']} {mode}"]
    wall = time.time() - t0
    table, verdict = report(a, sets, res, info, tvw, cal, a.steps, headers, wall)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"settings": sets, "slices": info, "tv_weights": tvw, "calibration": cal,
                   "steps": a.steps, "results": res, "wall_s": wall,
                   "target_a": {f"{k[0]} {k[1]}": v for k, v in verdict.items()}}, f, indent=1)
    with open(os.path.join(work, "RESULTS.md"), "w") as f:
        f.write(table)
    print(table)
    print(f"quality: table -> {os.path.join(work, 'RESULTS.md')}, per-slice values -> "
          f"{os.path.join(work, 'results.json')}; {wall / 60:.1f} min")
    if a.update_docs and not a.quick:
        update_docs(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
