"""Writes test/fixtures/erfc.json: erfc at a few thousand doubles, to 25 significant digits, from
mpmath (1.3) at 50 digits. test/libm-erfc.test.ts checks the float64 erfc of the js backend
against it.

    python3 scripts/make-erfc-fixture.py

Points (seeded, so the file is reproducible): uniform on [-7, 28] (past both ends erfc is 2 or
+0 in double), log-uniform |x| in [1e-20, 0.5] of both signs, dense near the breaks of
src/backends/cpu/erfc64.ts (0.5, every 0.5 to 3) and near float32's underflow (9.2 to 10.06,
where float32 results are subnormal), and the double underflow (26 to 27.3).
"""

import json
import os
import math
import random

import mpmath as mp

mp.mp.dps = 50
rng = random.Random(20240601)

xs = [0.0, 0.5, -0.5, 1.0, 3.0, 10.0, 26.5, 27.2, 5e-324, -5e-324]
xs += [rng.uniform(-7, 28) for _ in range(1500)]
xs += [rng.choice((-1, 1)) * 10 ** rng.uniform(-20, math.log10(0.5)) for _ in range(500)]
for brk in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
    xs += [s * (brk + rng.uniform(-1e-3, 1e-3)) for s in (1, -1) for _ in range(40)]
xs += [rng.uniform(9.2, 10.06) for _ in range(500)]
xs += [rng.uniform(26, 27.3) for _ in range(200)]

rows = [[repr(x), mp.nstr(mp.erfc(mp.mpf(x)), 25, min_fixed=1, max_fixed=0)] for x in sorted(set(xs))]
FIXTURE = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "erfc.json")
with open(FIXTURE, "w") as out:
    # One [x, erfc(x)] per line, as prettier formats it.
    out.write('{\n  "source": "mpmath 1.3 erfc at 50 digits, rounded to 25",\n  "points": [\n')
    out.write(",\n".join(f"    {json.dumps(row)}" for row in rows))
    out.write("\n  ]\n}\n")
print(len(rows), "points")
