#!/usr/bin/python3
"""Writes the .npy fixtures of test/cli-npy.test.ts with numpy itself (Debian's python3-numpy).

Run: /usr/bin/python3 scripts/make-npy-fixtures.py
Good files are written by numpy (np.save and numpy.lib.format with an explicit version); the bad
ones start from numpy's output and are damaged in one way each. expected.json holds, for each
good file, its shape, dtype and values (as float64 or int, exactly), for the tests to compare.
"""
import json
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "npy")
os.makedirs(OUT, exist_ok=True)

BASE = (np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5) / 2  # -2.75 .. 2.75, exact in f2
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-3, 70000.0], dtype=np.float64)

expected = {}


def save(name, array, version=None):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        npformat.write_array(f, array, version=version, allow_pickle=False)
    values = array.ravel().tolist()
    expected[name] = {
        "shape": list(array.shape),
        "descr": array.dtype.str,
        # JSON has no NaN or Infinity: write them as strings.
        "values": [v if np.isfinite(v) else str(v) for v in values],
    }


def raw(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def npy_bytes(array, version=None):
    import io

    buffer = io.BytesIO()
    npformat.write_array(buffer, array, version=version, allow_pickle=False)
    return buffer.getvalue()


# Format versions: 1.0 is np.save's default; 2.0 and 3.0 only differ in the header.
save("v1-f4.npy", BASE.astype("<f4"), (1, 0))
save("v2-f8.npy", BASE.astype("<f8"), (2, 0))
save("v3-f2.npy", BASE.astype("<f2"), (3, 0))
save("i4.npy", np.arange(-6, 6, dtype="<i4").reshape(2, 6))
save("special-f8.npy", SPECIAL)
# Big-endian, every supported type.
save("be-f4.npy", BASE.astype(">f4"))
save("be-f2.npy", BASE.astype(">f2"))
save("be-f8.npy", BASE.astype(">f8"))
save("be-i4.npy", np.arange(-6, 6, dtype=">i4").reshape(3, 2, 2))
# Degenerate shapes.
save("scalar-0d.npy", np.array(1.5, dtype="<f4"))
save("empty.npy", np.zeros((0, 3), dtype="<f4"))

# Refused: each with its own message.
raw("fortran.npy", npy_bytes(np.asfortranarray(BASE.astype("<f4"))))
raw("i8.npy", npy_bytes(np.arange(4, dtype="<i8")))
raw("structured.npy", npy_bytes(np.zeros(2, dtype=[("a", "<f4"), ("b", "<f4")])))
good = npy_bytes(BASE.astype("<f4"))
raw("truncated.npy", good[:-6])  # data cut short
raw("truncated-header.npy", good[:40])  # cut inside the header
raw("not-npy.npy", b"x,y\n1,2\n3,4\n")  # a CSV with the wrong name
# A header that lies: it claims 2 elements, the file holds 3 (same header length).
raw("lying-shape.npy", npy_bytes(np.arange(3, dtype="<f4")).replace(b"(3,)", b"(2,)"))
# A shape whose size overflows 2^53 bytes.
import io

buffer = io.BytesIO()
npformat.write_array_header_1_0(
    buffer, {"descr": "<f4", "fortran_order": False, "shape": (2**32, 2**32)}
)
raw("overflow.npy", buffer.getvalue() + b"\0" * 16)
# A version that does not exist.
raw("version-9.npy", good[:6] + b"\x09\x00" + good[8:])

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
print("numpy", np.__version__, "wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT))
