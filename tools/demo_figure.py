#!/usr/bin/env python3
"""Writes a side-by-side PNG figure: reference | reconstructions..., one row per
slice, each image windowed to [lo, hi] for display only.

Usage: demo_figure.py OUT.png LO HI REF.npy RECON.npy [RECON.npy ...]
"""
import os
import struct
import sys
import zlib

import numpy as np


def write_png_gray8(path, img):
    """Minimal 8-bit grayscale PNG (stdlib zlib only), written atomically."""
    h, w = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out, lo, hi = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    panels = [np.load(p).astype(np.float32) for p in sys.argv[4:]]
    panels = [p[None] if p.ndim == 2 else p for p in panels]
    rows = []
    for s in range(panels[0].shape[0]):
        row = [np.clip((p[s] - lo) / (hi - lo), 0, 1) for p in panels]
        gap = np.ones((row[0].shape[0], 4), np.float32)
        rows.append(np.concatenate([x for r in row for x in (r, gap)][:-1], axis=1))
    fig = np.concatenate([x for r in rows for x in (r, np.ones((4, r.shape[1]), np.float32))][:-1])
    write_png_gray8(out, (fig * 255 + 0.5).astype(np.uint8))


if __name__ == "__main__":
    main()
