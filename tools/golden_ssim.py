#!/usr/bin/env python3
"""Writes SSIM / PSNR / NMSE goldens from scikit-image into tests/operators/data/.

Each case is a pair of float32 images (x, ref), a data range R, and the values
    structural_similarity(x, ref, gaussian_weights=True, sigma=1.5,
                          use_sample_covariance=False, data_range=R)
    peak_signal_noise_ratio(ref, x, data_range=R)
    ||x - ref||^2 / ||ref||^2
computed in float64 (the images are cast up first, as our C code does).
Files: metrics_case<k>_x.npy, metrics_case<k>_ref.npy and metrics_values.npy
(rows: R, ssim, psnr, nmse).

Run: /usr/bin/python3 tools/golden_ssim.py   (Debian: python3-skimage)
"""
import os
import numpy as np
from skimage.metrics import structural_similarity, peak_signal_noise_ratio

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "operators", "data")


def phantom(h, w):
    y, x = np.mgrid[0:h, 0:w]
    y = (y - h / 2) / (h / 2)
    x = (x - w / 2) / (w / 2)
    img = ((x / 0.8) ** 2 + (y / 0.9) ** 2 <= 1).astype(np.float64) * 0.8
    img += ((x / 0.3) ** 2 + ((y - 0.2) / 0.4) ** 2 <= 1) * 0.2
    img -= (((x + 0.3) / 0.15) ** 2 + ((y + 0.3) / 0.2) ** 2 <= 1) * 0.5
    return img


def main():
    rng = np.random.default_rng(7)
    cases = []
    ref = phantom(32, 40)
    cases.append((ref + 0.05 * rng.standard_normal(ref.shape), ref, 1.0))
    ref = rng.random((16, 16))
    cases.append((rng.random((16, 16)), ref, 1.0))
    ref = 2.5 * phantom(64, 64) - 0.3
    x = np.clip(ref + 0.2 * rng.standard_normal(ref.shape), -0.5, 2.2)
    cases.append((x, ref, 2.5))
    ref = phantom(11, 13)
    cases.append((0.9 * ref + 0.02, ref, 0.8))
    values = []
    for k, (x, ref, rng_) in enumerate(cases):
        x = x.astype(np.float32)
        ref = ref.astype(np.float32)
        np.save(os.path.join(OUT, "metrics_case%d_x.npy" % k), x)
        np.save(os.path.join(OUT, "metrics_case%d_ref.npy" % k), ref)
        x64, r64 = x.astype(np.float64), ref.astype(np.float64)
        ssim = structural_similarity(x64, r64, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=rng_)
        ssim32 = structural_similarity(x, ref, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=rng_)
        psnr = peak_signal_noise_ratio(r64, x64, data_range=rng_)
        nmse = np.sum((x64 - r64) ** 2) / np.sum(r64 ** 2)
        print("case %d %s: ssim %.9f (float32 path %.9f) psnr %.6f nmse %.6g"
              % (k, x.shape, ssim, ssim32, psnr, nmse))
        values.append([rng_, ssim, psnr, nmse])
    np.save(os.path.join(OUT, "metrics_values.npy"), np.array(values, dtype=np.float64))


if __name__ == "__main__":
    main()
