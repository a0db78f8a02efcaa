"""Writes the small golden .npy files read by tests/io/test_npy.c.

Run once with NumPy (python3 make_npy_golden.py) from this directory; the
outputs are committed so the C test needs no Python. The values are
re-derived in test_npy.c, so keep the two in step.
"""
import numpy as np


def save(name, a, version=None):
    if version is None:
        np.save(name, a)
    else:
        with open(name, "wb") as f:
            np.lib.format.write_array(f, a, version=version)


save("f32_2x3.npy", np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1)
save("f64_3.npy", np.array([1.5, -2.25, 1e300], dtype="<f8"))
save("c64_2.npy", np.array([1 + 2j, -3.5 - 0.25j], dtype="<c8"))
save("f16_5.npy", np.array([0, 1, -2, 65504, 2.0**-24], dtype="<f2"))
save("i16_2x2.npy", np.array([[-32768, 32767], [0, -1]], dtype="<i2"))
save("u8_3.npy", np.array([0, 128, 255], dtype="u1"))
save("i32_2.npy", np.array([-2147483648, 7], dtype="<i4"))
save("i64_2.npy", np.array([-9223372036854775808, 42], dtype="<i8"))
save("f32_v2.npy", np.arange(4, dtype="<f4"), version=(2, 0))
save("f32_v3.npy", np.arange(4, dtype="<f4"), version=(3, 0))
save("scalar_f32.npy", np.float32(3.25))
save("empty_0x3.npy", np.zeros((0, 3), dtype="<f4"))
# Readers must refuse these three, each with its own message.
save("fortran_2x3.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
save("be_f4.npy", np.arange(3, dtype=">f4"))
save("bool_2.npy", np.array([True, False]))
