"""Reading real files right: long lines, control characters, line endings, entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.workers._quality_helpers import column, run
from workers.quality import QualityOptions, profile

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024

_CHILD = r"""
import json, resource, sys
from workers.quality import QualityOptions, profile
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
opts = QualityOptions(memory_limit_bytes=32 * 1024 * 1024, max_line_bytes=4 * 1024 * 1024)
r = profile(sys.argv[1], None, options=opts)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grown_kib": after - before, "failures": r["gates"]["failures"],
                  "codes": [f["code"] for f in r["findings"]]}))
"""


def _child(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def _codes(r: dict) -> list[str]:
    return [f["code"] for f in r["findings"]]


def test_file_without_line_break_longer_than_the_line_budget_fails_with_bounded_memory(tmp_path):
    # 20 MB, no line break, commas all along (one header of 7 million columns before the fix)
    p = tmp_path / "one_line.csv"
    p.write_bytes(b"ab," * (7 * 1000 * 1000))
    got = _child(p)
    assert got["failures"] == ["line 1 is longer than 4 MiB; lines up to 4 MiB are accepted"]
    assert got["codes"] == ["line_too_long"]
    assert got["grown_kib"] * 1024 < (32 + 128) * MiB, got


def test_long_line_after_good_rows_names_its_line_number(tmp_path):
    p = tmp_path / "late.csv"
    with open(p, "wb") as f:
        f.write(b"id,text\n" + b"".join(b"%d,row\n" % i for i in range(1, 50_001)))
        f.write(b"50001," + b"x" * (20 * 1000 * 1000) + b"\n50002,short\n")
    got = _child(p)
    assert got["failures"] == ["line 50002 is longer than 4 MiB; lines up to 4 MiB are accepted"]
    assert got["grown_kib"] * 1024 < (32 + 128) * MiB, got


def test_long_json_line_fails_the_same_way(tmp_path):
    p = tmp_path / "long.jsonl"
    p.write_bytes(b'{"a": 1}\n{"a": "' + b"y" * (6 * MiB) + b'"}\n')
    r = profile(p, None, options=QualityOptions(memory_limit_bytes=32 * MiB, max_line_bytes=4 * MiB))
    assert _codes(r) == ["line_too_long"]
    assert r["gates"]["failures"] == ["line 2 is longer than 4 MiB; lines up to 4 MiB are accepted"]


def test_line_just_under_the_limit_is_read(tmp_path):
    data = b"id,text\n1," + b"z" * (4 * MiB - 100) + b"\n2,b\n"
    r = run(tmp_path, data, options=QualityOptions(memory_limit_bytes=32 * MiB, max_line_bytes=4 * MiB))
    assert r["gates"]["passed"] is True, r["gates"]
    assert r["rows"] == 2
    assert column(r, "text")["distinct_count"] == 2
