#!/usr/bin/env python3
"""Writes the radial-line goldens of the Fourier-domain CT operator into
tests/operators/data/: for each (N, n_full) case, where every sample of every
view's radial line lands on the oversampled grid and the fractional (angle,
radius) position the official fft_discretize_sinogram interpolates at, from
the formulas of score_inverse_problems' transforms/radon.py re-stated here in
NumPy (get_r_coords, expand_diameter, get_kspace_radial, the round_z polar
step), so the C tables can be compared sample by sample.

Files: ctf_N<N>_grid.npy  int32 (2, n_full, ED): y and x grid indices
       ctf_N<N>_polar.npy float64 (2, n_full, ED): angle row, radius sample

Run: /usr/bin/python3 tools/golden_ct_fourier.py   (needs only numpy)
"""
import math
import os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "operators", "data")


def r_coords(diameter, num):
    if diameter % 2 == 0:
        radius = diameter / 2 - 0.5
        return np.linspace(-radius, radius, num) + -0.5
    radius = (diameter - 1) / 2
    return np.linspace(-radius, radius, num)


def expanded(diameter, k):
    e = int(diameter * k)
    return e + 1 if e % 2 == 1 else e


def tables(n, n_full, expansion=4):
    d = math.ceil(np.sqrt(2.0) * n)
    ed = expanded(d, expansion)
    r = r_coords(d, ed)
    a = np.linspace(0, np.pi, n_full, endpoint=False)
    rg, ag = np.meshgrid(r, a, indexing="xy")
    x = np.round((rg * np.cos(ag)) * ed / d) % ed
    y = np.round((-rg * np.sin(ag)) * ed / d) % ed
    ry = np.round((-rg * np.sin(ag)) * ed / d) * d / ed
    rx = np.round((rg * np.cos(ag)) * ed / d) * d / ed
    z = rx - 1j * ry
    rr = np.abs(z)
    th = np.angle(z)
    rr = np.where(th < 0, -rr, rr)
    th = np.where(th < 0, th + np.pi, th)
    th = (th - a.min()) / (a.max() - a.min()) * (n_full - 1)
    rr = (rr - r.min()) / (r.max() - r.min()) * (ed - 1)
    return (np.stack([y, x]).astype(np.int32), np.stack([th, rr]).astype(np.float64), d, ed)


def main():
    for n in (20, 24):
        grid, polar, d, ed = tables(n, n)
        np.save(os.path.join(OUT, "ctf_N%d_grid.npy" % n), grid)
        np.save(os.path.join(OUT, "ctf_N%d_polar.npy" % n), polar)
        print("N=%d: D=%d ED=%d" % (n, d, ed))


if __name__ == "__main__":
    main()
