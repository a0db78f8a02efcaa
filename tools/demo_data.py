#!/usr/bin/env python3
"""Extracts the demo's images from Debian packages (nothing is downloaded).

CT:  a real head CT, /usr/share/doc/invesalius-examples/examples/Cranium.inv3
     (gzip-compressed tar holding main.plist and matrix.dat: int16 little-endian
     Hounsfield units, shape (108, 256, 256), slices x rows x columns).
     Slices 80-107 are the project's held-out range (never trained on).
     HU map: x = (HU + 1000) / 2000, linear and unclipped so that line
     integrals stay linear in the image (air 0, water 0.5, dense bone > 1).
MRI: axial slices of the Colin27 T1 template,
     /usr/share/mricron/templates/ch2.nii.gz (uint8, 181 x 217 x 181, 1 mm),
     zero-padded to 240 x 240 and scaled to [0, 1].
--size 128: the shipped models' resolution and preprocessing instead
     (tools/training_data.py: CT 2x2 area averaging of the 256^2 slice, MRI
     padded to 217^2, area-resampled to 128^2, divided by the volume maximum
     255); MRI slices must then lie in the held-out range 110-129.

Usage: demo_data.py OUTDIR [--ct-slices 90,100] [--mri-slices 120] [--size 0|128]
Writes OUTDIR/ct_slices.npy (S, 256, 256) and OUTDIR/mri_slices.npy (S, 240, 240), float32
(with --size 128: both (S, 128, 128)).
"""
import argparse
import gzip
import io
import os
import plistlib
import struct
import sys
import tarfile

import numpy as np

CT_FILE = "/usr/share/doc/invesalius-examples/examples/Cranium.inv3"
MRI_FILE = "/usr/share/mricron/templates/ch2.nii.gz"


def fail(msg):
    print(f"demo_data: {msg}", file=sys.stderr)
    sys.exit(1)


def load_ct_hu():
    if not os.path.exists(CT_FILE):
        fail(f"{CT_FILE}: missing (apt-get install invesalius-examples)")
    with tarfile.open(CT_FILE, "r:gz") as tar:
        members = {os.path.basename(m.name): m for m in tar.getmembers()}
        if "main.plist" not in members or "matrix.dat" not in members:
            fail(f"{CT_FILE}: no main.plist / matrix.dat inside")
        meta = plistlib.load(tar.extractfile(members["main.plist"]))
        raw = tar.extractfile(members["matrix.dat"]).read()
    shape = tuple(int(v) for v in meta.get("matrix", {}).get("shape", (108, 256, 256)))
    expect = int(np.prod(shape)) * 2
    if len(raw) != expect:
        fail(f"{CT_FILE}: matrix.dat has {len(raw)} bytes, shape {shape} needs {expect}")
    return np.frombuffer(raw, dtype="<i2").reshape(shape)


def load_mri():
    if not os.path.exists(MRI_FILE):
        fail(f"{MRI_FILE}: missing (apt-get install mricron-data)")
    data = gzip.open(MRI_FILE, "rb").read()
    (sizeof_hdr,) = struct.unpack_from("<i", data, 0)
    if sizeof_hdr != 348:
        fail(f"{MRI_FILE}: not a little-endian NIfTI-1 file")
    dim = struct.unpack_from("<8h", data, 40)
    datatype, bitpix = struct.unpack_from("<hh", data, 70)
    (vox_offset,) = struct.unpack_from("<f", data, 108)
    slope, inter = struct.unpack_from("<ff", data, 112)
    if datatype != 2:
        fail(f"{MRI_FILE}: datatype {datatype}, expected uint8")
    nx, ny, nz = dim[1], dim[2], dim[3]
    vol = np.frombuffer(data, dtype=np.uint8, count=nx * ny * nz, offset=int(vox_offset))
    vol = vol.reshape(nz, ny, nx).astype(np.float32)  # NIfTI is x fastest
    if slope not in (0.0, 1.0) or inter != 0.0:
        vol = vol * (slope if slope else 1.0) + inter
    return vol


def pad_to(img, size):
    out = np.zeros((size, size), np.float32)
    h, w = img.shape
    oy, ox = (size - h) // 2, (size - w) // 2
    out[oy:oy + h, ox:ox + w] = img
    return out


def write_npy(path, arr):
    tmp = path + ".tmp"
    np.save(tmp, arr)
    os.replace(tmp + ".npy" if os.path.exists(tmp + ".npy") else tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--ct-slices", default="90,100")
    ap.add_argument("--mri-slices", default="120")
    ap.add_argument("--size", type=int, default=0, choices=[0, 128],
                    help="128: the shipped models' resolution and preprocessing")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    if args.size:
        return main_models(args)

    hu = load_ct_hu()
    ct_idx = [int(s) for s in args.ct_slices.split(",")]
    if any(i < 80 or i >= hu.shape[0] for i in ct_idx):
        fail(f"CT slices must be held-out slices 80..{hu.shape[0] - 1}")
    ct = (hu[ct_idx].astype(np.float32) + 1000.0) / 2000.0
    write_npy(os.path.join(args.outdir, "ct_slices.npy"), ct)

    mri = load_mri()
    mri_idx = [int(s) for s in args.mri_slices.split(",")]
    slices = []
    for i in mri_idx:
        s = mri[i][::-1]  # NIfTI rows run bottom-up: flip for display
        slices.append(pad_to(s, 240))
    mri_out = np.stack(slices)
    mri_out /= max(float(mri_out.max()), 1e-6)
    write_npy(os.path.join(args.outdir, "mri_slices.npy"), mri_out.astype(np.float32))
    print(f"demo_data: CT slices {ct_idx} {ct.shape}, MRI slices {mri_idx} {mri_out.shape} -> {args.outdir}")


def main_models(args):
    """Held-out slices exactly as the shipped models were trained on them."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import training_data
    out = {}
    for task, arg in (("ct", args.ct_slices), ("mri", args.mri_slices)):
        x, idx = training_data.load(task, "test")
        want = [int(s) for s in arg.split(",")]
        bad = [i for i in want if i not in idx]
        if bad:
            fail(f"{task} slices {bad} are not held-out slices ({idx[0]}..{idx[-1]})")
        out[task] = (x[[idx.index(i) for i in want]].astype(np.float32), want)
        write_npy(os.path.join(args.outdir, f"{task}_slices.npy"), out[task][0])
    print(f"demo_data: CT slices {out['ct'][1]} {out['ct'][0].shape}, MRI slices {out['mri'][1]} "
          f"{out['mri'][0].shape} (the models' 128^2 preprocessing) -> {args.outdir}")


if __name__ == "__main__":
    main()
