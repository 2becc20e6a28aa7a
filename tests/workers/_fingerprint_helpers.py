"""Tables for the fingerprint tests, and leaks made from them the way a leaker would."""

from __future__ import annotations

import csv
import io
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq

from workers.fingerprint import (
    FingerprintOptions,
    contract_key,
    mark_file,
    plan_file,
    selection_key,
)

SECRET = b"exchange-fingerprint-secret-for-tests"
SCOPE = "version-1"
SCHEMA = {"primaryKey": ["id"], "labelField": "label",
          "fields": [{"name": "id", "type": "integer"}, {"name": "price", "type": "number"},
                     {"name": "temp", "type": "number"}, {"name": "count", "type": "integer"},
                     {"name": "note", "type": "string"}, {"name": "label", "type": "string"}]}


def make_csv(rows: int, seed: int = 0) -> bytes:
    rnd = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["id", "price", "temp", "count", "note", "label"])
    for i in range(rows):
        w.writerow([i + 1, f"{rnd.randint(0, 999999) / 100:.2f}", f"{rnd.uniform(-40, 40):.3f}",
                    rnd.randint(0, 500), rnd.choice(["ok", "late, again", "fine"]), rnd.choice(["a", "b", "c"])])
    return out.getvalue().encode()


def keys_for(n: int, prefix: str = "contract") -> dict[str, bytes]:
    return {f"{prefix}-{i}": contract_key(SECRET, SCOPE, f"{prefix}-{i}") for i in range(n)}


def marked_copy(data: bytes, contract_id: str, fmt: str = "csv", schema=SCHEMA,
                options: FingerprintOptions | None = None):
    options = options or FingerprintOptions(gamma=20)
    plan = plan_file(io.BytesIO(data), fmt, schema=schema, options=options)
    out = io.BytesIO()
    result = mark_file(io.BytesIO(data), out, fmt, plan=plan, selection=selection_key(SECRET, SCOPE),
                       contract=contract_key(SECRET, SCOPE, contract_id))
    return plan, out.getvalue(), result


def parse_csv(data: bytes, delimiter: str = ",") -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))
    return rows[0], rows[1:]


def as_csv(header, rows, delimiter=",", quoting=csv.QUOTE_MINIMAL, newline="\n") -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode()


def _typed(v: str):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def as_jsonl(header, rows) -> bytes:
    """Numbers as JSON numbers (floats lose trailing zeros: 1.50 -> 1.5)."""
    return "".join(json.dumps({h: _typed(v) for h, v in zip(header, r, strict=True)}, ensure_ascii=False) + "\n"
                   for r in rows).encode()


def as_parquet(header, rows) -> bytes:
    cols = {h: [_typed(r[i]) for r in rows] for i, h in enumerate(header)}
    for h, vals in cols.items():
        if any(isinstance(v, float) for v in vals):
            cols[h] = [float(v) for v in vals]
        elif any(isinstance(v, str) for v in vals):
            cols[h] = [str(v) for v in vals]
    buf = io.BytesIO()
    pq.write_table(pa.table(cols), buf, compression="zstd")
    return buf.getvalue()


def as_float_noise_csv(header, rows) -> bytes:
    """Re-saved by a tool that writes binary floats at full precision (0.1 + 0.2 style)."""
    def noisy(v: str) -> str:
        t = _typed(v)
        return repr(float(t) * 3 / 3 + 1e-13) if isinstance(t, float) else v
    return as_csv(header, [[noisy(v) for v in r] for r in rows])
