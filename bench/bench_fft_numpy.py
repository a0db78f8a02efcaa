#!/usr/bin/env python3
"""Runs bench_fft (--csv) and times numpy.fft on the same shapes in the same
session, then prints both and the ratio numpy / ours (> 1: ours is faster).

numpy's peer of fft2c is fastMRI's own code path:
    fftshift(fft2(ifftshift(x, axes), norm="ortho"), axes)
on complex64 (N, N) planes stacked in a batch; of the CT transform T: the
official fft_radon_to_kspace's NumPy equivalent (pad to 453, resize to 1812,
ifftshift, fft2). Median of the same number of repeats, after one warm-up.

Usage: /usr/bin/python3 bench/bench_fft_numpy.py BUILD/bench/bench_fft [--threads N]
"""
import subprocess
import sys
import time

import numpy as np


def median_ms(fn, repeats):
    fn()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    return sorted(t)[len(t) // 2]


def numpy_case(case, n, batch, repeats):
    ax = (-2, -1)
    if case == "fft2c":
        x = np.full((batch, n, n), 0.5 + 0j, dtype=np.complex64)
        return median_ms(lambda: np.fft.fftshift(
            np.fft.fft2(np.fft.ifftshift(x, axes=ax), norm="ortho"), axes=ax), repeats)
    if case == "ct-fourier T":
        x = np.full((batch, n, n), 0.5, dtype=np.float32)
        d = 453 if n == 320 else int(np.ceil(np.sqrt(2) * n))
        ed = 4 * d + (4 * d) % 2

        def t():
            p = np.zeros((batch, ed, ed), np.float32)
            o = ed // 2 - n // 2
            p[:, o:o + n, o:o + n] = x
            return np.fft.fft2(np.fft.ifftshift(p, axes=ax))
        return median_ms(t, max(1, repeats // 2))
    return None


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    args = [sys.argv[1], "--csv", "--repeats", "7"] + sys.argv[2:]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    print("%-5s %-20s %6s %5s %11s %11s %8s" % ("ours", "case", "size", "batch", "ours ms",
                                               "numpy ms", "ratio"))
    for line in out.strip().splitlines():
        backend, case, n, batch, ms = line.split(",")
        n, batch, ms = int(n), int(batch), float(ms)
        peer = numpy_case(case, n, batch, 7)
        if peer is None:
            print("%-5s %-20s %5d² %5d %11.3f %11s %8s" % (backend, case, n, batch, ms, "-", "-"))
        else:
            print("%-5s %-20s %5d² %5d %11.3f %11.3f %7.2fx" % (backend, case, n, batch, ms, peer,
                                                               peer / ms))
    print("numpy %s (pocketfft, one thread)" % np.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
