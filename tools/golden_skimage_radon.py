#!/usr/bin/env python3
"""Golden files for the CT projector tests (tests/operators/test_ct_golden.c):
scikit-image's radon, its FBP filters and iradon on a small smooth phantom.

Needs NumPy and scikit-image (Debian: apt-get install python3-skimage; made
with scikit-image 0.19.3, NumPy 1.24). Writes float32 .npy files (about 180 kB
in all) into tests/operators/data/ (or the folder given as the argument):

  ct_golden_image.npy     (64, 64)      the phantom, zero outside its inscribed circle
  ct_golden_angles.npy    (45,)         view angles in radians (float64), 0, 4, ..., 176 degrees
  ct_golden_radon.npy     (45, 91)      radon(image, theta, circle=False), one row per view
  ct_golden_filtered.npy  (5, 45, 91)   that sinogram through iradon's filtering step for
                                        ramp, shepp-logan, cosine, hamming, hann
                                        (scikit-image's scale: twice scorerecon's ramp filter)
  ct_golden_iradon.npy    (2, 64, 64)   iradon(sinogram, theta, circle=False) with the
                                        ramp and hann filters

The filtering step is iradon's own code path: zero-pad each projection to
max(64, 2^ceil(log2(2 n_det))), multiply its FFT by _get_fourier_filter, keep
the real part of the inverse FFT, crop.
"""
import os
import sys

import numpy as np
from skimage.transform import iradon, radon
from skimage.transform.radon_transform import _get_fourier_filter

N = 64
DEGREES = np.arange(45) * 4.0
FILTERS = ("ramp", "shepp-logan", "cosine", "hamming", "hann")
IRADON_FILTERS = ("ramp", "hann")


def phantom(n):
    """Gaussian blobs and a soft-edged ellipse (a cosine ramp 3 pixels wide),
    all well inside the inscribed circle."""
    y, x = np.mgrid[:n, :n].astype(np.float64)
    x -= n // 2
    y -= n // 2
    img = np.zeros((n, n))
    for (x0, y0, sx, sy, a) in ((-6, 4, 7, 5, 1.0), (9, -7, 4, 6, 0.7), (2, 12, 3, 3, 0.5)):
        img += a * np.exp(-0.5 * (((x - x0) / sx) ** 2 + ((y - y0) / sy) ** 2))
    # Ellipse centred (-3, -8), semi-axes 14 x 8, rotated 30 degrees, soft edge.
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    u = ((x + 3) * c + (y + 8) * s) / 14.0
    v = (-(x + 3) * s + (y + 8) * c) / 8.0
    r = np.sqrt(u * u + v * v)
    edge = np.clip((1.0 - r) * 14.0 / 3.0, 0.0, 1.0)
    img += 0.6 * np.sin(0.5 * np.pi * edge) ** 2
    img[x * x + y * y > (n // 2 - 1) ** 2] = 0.0
    return img.astype(np.float32)


def filtered(sino_cols, name):
    """iradon's filtering step on a (n_det, n_angles) sinogram."""
    n_det = sino_cols.shape[0]
    padded = max(64, int(2 ** np.ceil(np.log2(2 * n_det))))
    img = np.pad(sino_cols, ((0, padded - n_det), (0, 0)), mode="constant")
    proj = np.fft.fft(img, axis=0) * _get_fourier_filter(padded, name)
    return np.real(np.fft.ifft(proj, axis=0)[:n_det, :])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "operators", "data")
    os.makedirs(out, exist_ok=True)
    image = phantom(N)
    sino = radon(image.astype(np.float64), theta=DEGREES, circle=False)  # (n_det, n_angles)
    angles = np.deg2rad(DEGREES)
    filt = np.stack([filtered(sino, f).T for f in FILTERS])
    recs = np.stack([iradon(sino, theta=DEGREES, circle=False, filter_name=f)
                     for f in IRADON_FILTERS])
    np.save(os.path.join(out, "ct_golden_image.npy"), image)
    np.save(os.path.join(out, "ct_golden_angles.npy"), angles.astype(np.float64))
    np.save(os.path.join(out, "ct_golden_radon.npy"), np.ascontiguousarray(sino.T, dtype=np.float32))
    np.save(os.path.join(out, "ct_golden_filtered.npy"), np.ascontiguousarray(filt, dtype=np.float32))
    np.save(os.path.join(out, "ct_golden_iradon.npy"), np.ascontiguousarray(recs, dtype=np.float32))
    print("wrote goldens to", os.path.normpath(out), "sinogram", sino.T.shape,
          "padded", max(64, int(2 ** np.ceil(np.log2(2 * sino.shape[0])))))


if __name__ == "__main__":
    main()
