#!/usr/bin/env python3
"""Writes a side-by-side PNG figure: reference | reconstructions..., one row per
slice, each image windowed to [lo, hi] for display only. With --labels, a
caption above every panel: the PSNR against the reference (data range
--data-range R, default max - min of the reference; no clipping) is appended to
every reconstruction's label and printed; a label starting with '~' marks an
uncertainty map, drawn with its own window [0, its 99th percentile] (stated in
the caption) and no PSNR. --title adds a caption above the whole figure.
Numpy only: captions use a built-in 5x7 bitmap font (upper case).

Usage: demo_figure.py OUT.png LO HI REF.npy RECON.npy [RECON.npy ...]
         [--labels "ground truth,FBP,TV,score,~std"] [--data-range R] [--title T] [--scale S]
"""
import os
import struct
import sys
import zlib

import numpy as np

# 5x7 glyphs: 7 rows of 5 pixels each ('#' on).
_GLYPHS = """
A .###. #...# #...# ##### #...# #...# #...#
B ####. #...# #...# ####. #...# #...# ####.
C .###. #...# #.... #.... #.... #...# .###.
D ####. #...# #...# #...# #...# #...# ####.
E ##### #.... #.... ####. #.... #.... #####
F ##### #.... #.... ####. #.... #.... #....
G .###. #...# #.... #.### #...# #...# .####
H #...# #...# #...# ##### #...# #...# #...#
I .###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.
J ..### ...#. ...#. ...#. ...#. #..#. .##..
K #...# #..#. #.#.. ##... #.#.. #..#. #...#
L #.... #.... #.... #.... #.... #.... #####
M #...# ##.## #.#.# #.#.# #...# #...# #...#
N #...# ##..# #.#.# #..## #...# #...# #...#
O .###. #...# #...# #...# #...# #...# .###.
P ####. #...# #...# ####. #.... #.... #....
Q .###. #...# #...# #...# #.#.# #..#. .##.#
R ####. #...# #...# ####. #.#.. #..#. #...#
S .#### #.... #.... .###. ....# ....# ####.
T ##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..
U #...# #...# #...# #...# #...# #...# .###.
V #...# #...# #...# #...# #...# .#.#. ..#..
W #...# #...# #...# #.#.# #.#.# #.#.# .#.#.
X #...# #...# .#.#. ..#.. .#.#. #...# #...#
Y #...# #...# .#.#. ..#.. ..#.. ..#.. ..#..
Z ##### ....# ...#. ..#.. .#... #.... #####
0 .###. #...# #..## #.#.# ##..# #...# .###.
1 ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.
2 .###. #...# ....# ...#. ..#.. .#... #####
3 ##### ...#. ..#.. ...#. ....# #...# .###.
4 ...#. ..##. .#.#. #..#. ##### ...#. ...#.
5 ##### #.... ####. ....# ....# #...# .###.
6 ..##. .#... #.... ####. #...# #...# .###.
7 ##### ....# ...#. ..#.. .#... .#... .#...
8 .###. #...# #...# .###. #...# #...# .###.
9 .###. #...# #...# .#### ....# ...#. .##..
. ..... ..... ..... ..... ..... .##.. .##..
, ..... ..... ..... ..... .##.. ..#.. .#...
: ..... .##.. .##.. ..... .##.. .##.. .....
- ..... ..... ..... .###. ..... ..... .....
+ ..... ..#.. ..#.. ##### ..#.. ..#.. .....
/ ....# ....# ...#. ..#.. .#... #.... #....
( ...#. ..#.. .#... .#... .#... ..#.. ...#.
) .#... ..#.. ...#. ...#. ...#. ..#.. .#...
= ..... ..... ##### ..... ##### ..... .....
% ##..# ##..# ...#. ..#.. .#... #..## #..##
~ ..... ..... .#... #.#.# ...#. ..... .....
"""
FONT = {ln[0]: np.array([[c == "#" for c in row] for row in ln[2:].split()], bool)
        for ln in _GLYPHS.strip("\n").split("\n")}
FONT[" "] = np.zeros((7, 5), bool)


def text_bitmap(s):
    """(7, 6 len - 1) boolean bitmap of s (upper-cased; unknown characters blank)."""
    s = s.upper()
    cols = []
    for ch in s:
        g = FONT.get(ch, FONT.get(ch.upper(), FONT[" "]))
        cols += [g, np.zeros((7, 1), bool)]
    return np.concatenate(cols[:-1], axis=1) if cols else np.zeros((7, 1), bool)


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


def psnr(x, ref, data_range):
    mse = float(np.mean((x.astype(np.float64) - ref.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(data_range ** 2 / mse)


def caption(label, width, scale):
    """White strip with the label (black, pixel-scaled), centred; cut to width."""
    bm = text_bitmap(label)
    bm = np.kron(bm, np.ones((scale, scale), bool))
    strip = np.ones((bm.shape[0] + 4 * scale, width), np.float32)
    bw = min(bm.shape[1], width)
    x0 = (width - bw) // 2
    strip[2 * scale:2 * scale + bm.shape[0], x0:x0 + bw][bm[:, :bw]] = 0.0
    return strip


def main():
    argv = sys.argv[1:]
    opts = {"--labels": None, "--data-range": None, "--scale": "2", "--title": None}
    for flag in opts:
        if flag in argv:
            i = argv.index(flag)
            if i + 1 >= len(argv):
                sys.exit(f"demo_figure: {flag} needs a value")
            opts[flag] = argv[i + 1]
            del argv[i:i + 2]
    labels = opts["--labels"].split(",") if opts["--labels"] else None
    data_range = float(opts["--data-range"]) if opts["--data-range"] else None
    scale, title = int(opts["--scale"]), opts["--title"]
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out, lo, hi = argv[0], float(argv[1]), float(argv[2])
    panels = [np.load(p).astype(np.float32) for p in argv[3:]]
    panels = [p[None] if p.ndim == 2 else p for p in panels]
    if labels is not None and len(labels) != len(panels):
        sys.exit(f"demo_figure: {len(labels)} labels for {len(panels)} images")
    ref = panels[0]
    if data_range is None:
        data_range = float(ref.max() - ref.min()) or 1.0
    rows = []
    for s in range(ref.shape[0]):
        row = []
        for j, p in enumerate(panels):
            unc = labels is not None and labels[j].startswith("~")
            if unc:
                top = float(np.percentile(p[s], 99)) or 1.0
                img = np.clip(p[s] / top, 0, 1)
            else:
                img = np.clip((p[s] - lo) / (hi - lo), 0, 1)
            # nearest-neighbour upscaling of small images so the captions fit
            up = max(1, 256 // img.shape[1])
            img = np.kron(img, np.ones((up, up), np.float32))
            if labels is not None:
                text = labels[j].lstrip("~")
                if j > 0 and not unc:
                    text += f" {psnr(p[s], ref[s], data_range):.1f} DB"
                    print(f"{title + ', ' if title else ''}slice {s}: {labels[j]:<12s} "
                          f"PSNR {psnr(p[s], ref[s], data_range):6.2f} dB (data range {data_range:g})")
                elif unc:
                    text += f" (0-{float(np.percentile(p[s], 99)):.3g})"
                img = np.concatenate([caption(text, img.shape[1], scale), img])
            row.append(img)
        h = max(r.shape[0] for r in row)
        row = [np.pad(r, ((0, h - r.shape[0]), (0, 0)), constant_values=1.0) for r in row]
        gap = np.ones((h, 4), np.float32)
        rows.append(np.concatenate([x for r in row for x in (r, gap)][:-1], axis=1))
    wmax = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, wmax - r.shape[1])), constant_values=1.0) for r in rows]
    fig = np.concatenate([x for r in rows for x in (r, np.ones((4, wmax), np.float32))][:-1])
    if title:
        fig = np.concatenate([caption(title, wmax, scale), np.ones((3 * scale, wmax), np.float32), fig])
    write_png_gray8(out, (fig * 255 + 0.5).astype(np.uint8))


if __name__ == "__main__":
    main()
