"""NumPy <-> scorerecon .npy compatibility, both ways.

For every dtype the library reads, NumPy writes a file (format versions 1, 2
and 3), the C helper npy_echo reads it and writes it back, and NumPy must
load exactly the original array (dtype, shape and bytes) from the C output.
Files NumPy writes that we must refuse are checked to fail.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

echo = sys.argv[1]
rng = np.random.default_rng(7)
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def arrays():
    yield "f4", rng.standard_normal((3, 4, 5)).astype("<f4")
    yield "f8", rng.standard_normal((7,)).astype("<f8")
    yield "c8", (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype("<c8")
    yield "f2", rng.standard_normal((4, 4)).astype("<f2")
    yield "i2", rng.integers(-32768, 32767, (5, 2), dtype="<i2")
    yield "u1", rng.integers(0, 255, (9,), dtype="u1")
    yield "i4", rng.integers(-2**31, 2**31 - 1, (2, 2, 2), dtype="<i4")
    yield "i8", rng.integers(-2**62, 2**62, (3,), dtype="<i8")
    yield "scalar", np.array(2.5, dtype="<f4")
    yield "empty", np.zeros((0, 4), dtype="<f4")
    yield "8d", np.arange(256, dtype="<f4").reshape((2,) * 8)


with tempfile.TemporaryDirectory() as d:
    for name, a in arrays():
        for version in [(1, 0), (2, 0), (3, 0)]:
            src = os.path.join(d, f"{name}_v{version[0]}.npy")
            with open(src, "wb") as f:
                np.lib.format.write_array(f, a, version=version)
            for out_version in (1, 2):
                out = os.path.join(d, f"{name}_out.npy")
                r = subprocess.run([echo, src, out, str(out_version)], capture_output=True,
                                   text=True)
                check(r.returncode == 0, f"{name} v{version}: npy_echo failed: {r.stderr}")
                if r.returncode:
                    continue
                with open(out, "rb") as f:
                    major, _ = np.lib.format.read_magic(f)
                check(major == out_version, f"{name}: wrote version {major}")
                b = np.load(out, allow_pickle=False)
                check(b.dtype == a.dtype, f"{name}: dtype {b.dtype} != {a.dtype}")
                check(b.shape == a.shape, f"{name}: shape {b.shape} != {a.shape}")
                check(b.tobytes() == a.tobytes(), f"{name}: data differ")
    refused = {
        "fortran": np.asfortranarray(np.ones((2, 3), dtype="<f4")),
        "bigendian": np.ones(3, dtype=">f4"),
        "bool": np.ones(3, dtype="?"),
        "int8": np.ones(3, dtype="i1"),
        "complex128": np.ones(3, dtype="<c16"),
        "structured": np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]),
    }
    for name, a in refused.items():
        src = os.path.join(d, f"{name}.npy")
        np.save(src, a)
        r = subprocess.run([echo, src, os.path.join(d, "x.npy")], capture_output=True, text=True)
        check(r.returncode == 1 and src in r.stderr, f"{name}: expected a clear refusal, got "
              f"rc={r.returncode} {r.stderr!r}")

print(f"npy_numpy_check: {'all checks passed' if not failures else f'{failures} failed'}")
sys.exit(1 if failures else 0)
