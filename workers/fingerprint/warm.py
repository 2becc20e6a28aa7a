"""Compile (or load from numba's cache) every fingerprint kernel once, on a tiny table.

    python -m workers.fingerprint.warm

``make test`` runs it first, so the first delivery a test worker builds does not pay the
one-time compilation (tens of seconds on a loaded machine); a long-running worker pays
the cache load once per process either way (about a second).
"""

from __future__ import annotations

import io
import time

import pyarrow as pa
import pyarrow.parquet as pq

from . import FingerprintOptions, contract_key, mark_file, plan_file, selection_key, trace

SCHEMA = {"primaryKey": ["id"]}
_SECRET = b"warm-up: no real key"


def warm_up() -> float:
    """Seconds spent marking and tracing a small CSV and a small Parquet file."""
    t = time.perf_counter()
    csv_data = b"id,kwh,label\n" + b"".join(b"%d,%d.25,a\n" % (i, i) for i in range(2000))
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(2000)), "kwh": [i + 0.25 for i in range(2000)]}), buf)
    sel, key = selection_key(_SECRET, "warm"), contract_key(_SECRET, "warm", "c")
    for fmt, data in (("csv", csv_data), ("parquet", buf.getvalue())):
        plan = plan_file(io.BytesIO(data), fmt, schema=SCHEMA, options=FingerprintOptions(gamma=20))
        out = io.BytesIO()
        mark_file(io.BytesIO(data), out, fmt, plan=plan, selection=sel, contract=key)
        trace(io.BytesIO(out.getvalue()), fmt, plan=plan, selection=sel, candidates={"c": key})
    return time.perf_counter() - t


if __name__ == "__main__":
    print(f"fingerprint kernels ready in {warm_up():.1f} s")
