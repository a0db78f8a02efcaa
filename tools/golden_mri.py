#!/usr/bin/env python3
"""Writes the small NumPy goldens of the MRI tests into tests/operators/data/.

fastMRI's convention for the centred orthonormal FFT is
    fft2c(x)  = fftshift(fft2(ifftshift(x), norm="ortho"))
    ifft2c(k) = fftshift(ifft2(ifftshift(k), norm="ortho"))
(shifts over the last two axes). The files are tiny on purpose (committed):
even and odd sizes, a real image and a complex one. Masks: the column sets of
the official score_inverse_problems rule given n_keep (re-stated here from its
formulas), which the C test compares column for column.

Run: /usr/bin/python3 tools/golden_mri.py   (needs only numpy)
"""
import os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "operators", "data")


def fft2c(x):
    ax = (-2, -1)
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=ax), norm="ortho"), axes=ax)


def ifft2c(k):
    ax = (-2, -1)
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=ax), norm="ortho"), axes=ax)


def paper_columns(h, w, n_keep):
    """Kept columns of the paper's deterministic equispaced mask."""
    center_fraction = n_keep / 1000
    acceleration = h / n_keep
    num_low = int(round(w * center_fraction))
    keep = np.zeros(w, dtype=bool)
    pad = (w - num_low + 1) // 2
    keep[pad:pad + num_low] = True
    adjusted = (acceleration * (num_low - w)) / (num_low * acceleration - w)
    offset = round(adjusted) // 2
    lines = np.around(np.arange(offset, w - 1, adjusted)).astype(np.int64)
    keep[lines] = True
    return np.nonzero(keep)[0].astype(np.int64)


def phantom_volume(n=64):
    """Two slices of piecewise-constant ellipses in [0, 1] for the CLI tests."""
    y, x = np.mgrid[0:n, 0:n]
    y = (y - n / 2) / (n / 2)
    x = (x - n / 2) / (n / 2)
    img = np.zeros((2, n, n), np.float32)
    img[0][x ** 2 / 0.7 + y ** 2 / 0.85 < 1] = 0.8
    img[0][(x - 0.2) ** 2 / 0.04 + y ** 2 / 0.1 < 1] = 0.3
    img[0][(x + 0.3) ** 2 + (y + 0.3) ** 2 < 0.02] = 1.0
    img[1] = np.roll(img[0], 5, axis=1) * 0.9
    return img


def save(name, arr):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(arr))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261124)
    # A real image of even size (fastMRI images are real after the crop) ...
    img = rng.standard_normal((2, 6, 8)).astype(np.float32)
    save("mri_real_2x6x8.npy", img)
    save("mri_real_2x6x8_fft2c.npy", fft2c(img.astype(np.float64)).astype(np.complex64))
    # ... and complex data of odd size, both directions.
    cimg = (rng.standard_normal((1, 5, 7)) + 1j * rng.standard_normal((1, 5, 7))).astype(np.complex64)
    save("mri_complex_1x5x7.npy", cimg)
    save("mri_complex_1x5x7_fft2c.npy", fft2c(cimg.astype(np.complex128)).astype(np.complex64))
    save("mri_complex_1x5x7_ifft2c.npy", ifft2c(cimg.astype(np.complex128)).astype(np.complex64))
    # Mixed parity: even rows, odd columns.
    cimg2 = (rng.standard_normal((1, 4, 9)) + 1j * rng.standard_normal((1, 4, 9))).astype(np.complex64)
    save("mri_complex_1x4x9.npy", cimg2)
    save("mri_complex_1x4x9_fft2c.npy", fft2c(cimg2.astype(np.complex128)).astype(np.complex64))
    for n_keep in (10, 30, 60):
        save("mri_paper_mask_240_nkeep%d.npy" % n_keep, paper_columns(240, 240, n_keep))
    save("mri_paper_mask_320_nkeep30.npy", paper_columns(320, 320, 30))
    save("phantom_2x64x64.npy", phantom_volume())


if __name__ == "__main__":
    main()
