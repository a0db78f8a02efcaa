#!/usr/bin/env python3
"""Writes two tiny files in fastMRI's single-coil layout with h5py, as the
real fastMRI files are written, into tests/operators/data/:

  fastmri_singlecoil_val.h5   kspace (2, 20, 12) complex64 (h5py's compound
                              {r, i}), reconstruction_esc (2, 8, 8) float32 =
                              |centre crop of ifft2c(kspace)|, no mask, the
                              attributes acquisition / max / norm / patient_id
                              and an ismrmrd_header dataset, like train/val;
  fastmri_singlecoil_test.h5  kspace (1, 16, 10) undersampled by a (10,) bool
                              mask (h5py's enum), no target, like the test set.

Run: /usr/bin/python3 tools/golden_fastmri.py   (Debian: python3-h5py)
"""
import os
import numpy as np
import h5py

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "operators", "data")
AX = (-2, -1)


def fft2c(x):
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=AX), norm="ortho"), axes=AX)


def ifft2c(k):
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=AX), norm="ortho"), axes=AX)


def center_crop(x, h, w):
    oy = (x.shape[-2] - h) // 2
    ox = (x.shape[-1] - w) // 2
    return x[..., oy:oy + h, ox:ox + w]


def main():
    rng = np.random.default_rng(3)
    img = rng.standard_normal((2, 20, 12)) + 1j * rng.standard_normal((2, 20, 12))
    kspace = fft2c(img).astype(np.complex64)
    esc = np.abs(center_crop(ifft2c(kspace.astype(np.complex128)), 8, 8)).astype(np.float32)
    with h5py.File(os.path.join(OUT, "fastmri_singlecoil_val.h5"), "w") as f:
        f.create_dataset("kspace", data=kspace)
        f.create_dataset("reconstruction_esc", data=esc)
        f.create_dataset("ismrmrd_header", data=b"<ismrmrdHeader/>")
        f.attrs["acquisition"] = "CORPD_FBK"
        f.attrs["max"] = float(esc.max())
        f.attrs["norm"] = float(np.linalg.norm(esc))
        f.attrs["patient_id"] = "synthetic"
    mask = np.zeros(10, dtype=bool)
    mask[[0, 3, 4, 5, 6, 8]] = True
    img = rng.standard_normal((1, 16, 10)) + 1j * rng.standard_normal((1, 16, 10))
    kspace = (fft2c(img) * mask).astype(np.complex64)
    with h5py.File(os.path.join(OUT, "fastmri_singlecoil_test.h5"), "w") as f:
        f.create_dataset("kspace", data=kspace)
        f.create_dataset("mask", data=mask)
        f.attrs["acquisition"] = "CORPD_FBK"
        f.attrs["acceleration"] = 4
        f.attrs["num_low_frequency"] = 4


if __name__ == "__main__":
    main()
