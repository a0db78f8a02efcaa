#!/usr/bin/env python3
"""Training and held-out images for scorerecon's shipped models, extracted
from Debian packages (nothing is downloaded).

CT  (invesalius-examples, Cranium.inv3: int16 HU, (108, 256, 256), 0.957 mm
     pixels, 1.5 mm slices):
     * train: slices 0-79; held out (never trained on): slices 80-107.
     * value map: x = (HU + 1000) / 2000, linear and unclipped (air 0,
       water 0.5, dense bone > 1), the same map as tools/demo_data.py.
     * 128 x 128 by area averaging: the mean of each 2x2 block of the
       256 x 256 slice (linear, so line integrals stay consistent; pixel
       1.914 mm).
MRI (mricron-data, Colin27 ch2.nii.gz: uint8, 181 x 217 x 181, 1 mm):
     * axial slices z (the NIfTI k axis), rows flipped as in demo_data.py
       (217 rows x 181 columns);
     * train: z in [30, 110) U [130, 160) (110 slices);
       held out (never trained on): z in [110, 130) (20 slices);
     * each slice zero-padded (centred) to 217 x 217, then area-resampled
       (adaptive average pooling) to 128 x 128 (pixel 1.695 mm);
     * divided by the maximum of the whole volume (255), so values lie in
       [0, 1] and every slice uses the same scale.
Augmentation (training only, in tools/train.py): random left-right flips.
No ellipse phantoms are used.

Usage: training_data.py {ct,mri} {train,test} OUT.npy   (float32 (N, H, W))
       training_data.py stats    (sigma_max heuristic: max pairwise distance)
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_data  # noqa: E402

CT_TRAIN = list(range(0, 80))
CT_TEST = list(range(80, 108))
MRI_TRAIN = list(range(30, 110)) + list(range(130, 160))
MRI_TEST = list(range(110, 130))
SIZE = 128

# value_max: the top of the model's value range (the sampler clips its output
# to [0, value_max]): dense bone reaches HU ~3000 (x = 2) in Cranium.inv3.
CT_MAP = {"value_map": "x = (HU + 1000) / 2000", "hu_offset": 1000.0, "hu_scale": 2000.0,
          "value_max": 2.0}
MRI_MAP = {"value_map": "x = uint8 / 255 (volume maximum)", "intensity_scale": 255.0,
           "value_max": 1.0}

SPLITS = {
    "ct": {"train": CT_TRAIN, "test": CT_TEST},
    "mri": {"train": MRI_TRAIN, "test": MRI_TEST},
}


def area_resize(img, size):
    """Area (box) resampling of a 2-D image to size x size: exact block means
    where the ratio is an integer, otherwise the overlap-weighted mean
    (the same as torch's adaptive average pooling with area weights)."""
    h, w = img.shape
    if h % size == 0 and w % size == 0:
        return img.reshape(size, h // size, size, w // size).mean(axis=(1, 3))

    def matrix(n, m):
        # m x n matrix averaging input cells [0, n) into m output cells
        a = np.zeros((m, n), np.float64)
        for i in range(m):
            lo, hi = i * n / m, (i + 1) * n / m
            for j in range(int(np.floor(lo)), int(np.ceil(hi))):
                ov = min(hi, j + 1) - max(lo, j)
                if ov > 0:
                    a[i, j] = ov
            a[i] /= a[i].sum()
        return a
    return (matrix(h, size) @ img.astype(np.float64) @ matrix(w, size).T).astype(np.float32)


def ct_slices(split):
    hu = demo_data.load_ct_hu()
    idx = SPLITS["ct"][split]
    x = (hu[idx].astype(np.float32) + 1000.0) / 2000.0
    return np.stack([area_resize(s, SIZE) for s in x]).astype(np.float32), idx


def mri_slices(split):
    vol = demo_data.load_mri()  # (z, y, x) = (181, 217, 181)
    scale = float(vol.max())
    idx = SPLITS["mri"][split]
    out = []
    for z in idx:
        s = vol[z][::-1]
        side = max(s.shape)
        out.append(area_resize(demo_data.pad_to(s, side), SIZE))
    return (np.stack(out) / scale).astype(np.float32), idx


def load(modality, split):
    return ct_slices(split) if modality == "ct" else mri_slices(split)


def max_pairwise_distance(x):
    f = x.reshape(len(x), -1).astype(np.float64)
    sq = (f * f).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * f @ f.T
    return float(np.sqrt(max(d2.max(), 0.0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modality", choices=["ct", "mri", "stats"])
    ap.add_argument("split", nargs="?", choices=["train", "test"])
    ap.add_argument("out", nargs="?")
    a = ap.parse_args()
    if a.modality == "stats":
        for m in ("ct", "mri"):
            x, _ = load(m, "train")
            print(f"{m}: train {x.shape}, range [{x.min():.3f}, {x.max():.3f}], "
                  f"max pairwise L2 distance {max_pairwise_distance(x):.1f}")
        return 0
    if not a.split or not a.out:
        ap.error("give a split and an output file")
    x, idx = load(a.modality, a.split)
    np.save(a.out, x)
    print(f"{a.modality} {a.split}: slices {idx[0]}..{idx[-1]} ({len(idx)}) {x.shape} -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
