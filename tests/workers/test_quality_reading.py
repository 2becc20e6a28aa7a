"""Reading real files right: long lines, control characters, line endings, entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_python_dash_m_workers_quality_runs(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("id,name\n1,a\n2,b\n")
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]}))
    out = subprocess.run([sys.executable, "-m", "workers.quality", str(f), "--schema", str(schema), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rows"] == 2
    bad = subprocess.run([sys.executable, "-m", "workers.quality", str(tmp_path / "nope.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "no such file" in bad.stderr


def _no_control(obj) -> bool:
    return "\x00" not in json.dumps(obj, ensure_ascii=False)


def test_raw_nul_bytes_in_csv_values_are_counted_per_column(tmp_path):
    data = b"id,text,note\n1,a\x00b,ok\n2,plain,x\x00\x00\n3,c\x01d,fine\n4,e,f\n"
    r = run(tmp_path, data)
    assert r["rows"] == 4
    assert r["control_characters"] == {"cells": 3, "by_column": {"text": 2, "note": 1}}
    f = next(f for f in r["findings"] if f["code"] == "control_characters")
    assert f["level"] == "warning" and f["by_column"] == {"text": 2, "note": 1}
    assert r["sample"][0]["text"] == "a\\u0000b"
    assert _no_control(r)


def test_json_lines_nul_escape_is_counted_and_never_stored(tmp_path):
    data = '{"id": 1, "t": "x\\u0000y"}\n{"id": 2, "t": "ok"}\n{"id": 3, "t": "\\u0007"}\n'
    r = run(tmp_path, data, name="d.jsonl")
    assert r["rows"] == 3
    assert r["control_characters"]["by_column"] == {"t": 2}
    assert "control_characters" in _codes(r)
    assert _no_control(r)




@pytest.mark.parametrize(("eol", "kind"), [(b"\n", "LF"), (b"\r\n", "CRLF"), (b"\r", "CR")])
def test_line_endings_read_and_reported(tmp_path, eol, kind):
    rows = [b"id,name,amount", b"1,a,2.5", b"2,b,3", b"3,c,"]
    r = run(tmp_path, eol.join(rows) + eol)
    assert r["gates"]["passed"] is True, r["gates"]
    assert r["header"] == ["id", "name", "amount"]
    assert r["rows"] == 3 and r["malformed_rows"] == 0
    assert column(r, "amount")["null_count"] == 1
    assert r["line_endings"]["kind"] == kind
    assert "line_endings_mixed" not in _codes(r)


def test_cr_only_tsv_is_sniffed_as_tsv(tmp_path):
    r = run(tmp_path, b"a\tb\r1\t2\r3\t4\r", name="d.txt")
    assert r["format"] == "tsv" and r["delimiter"] == "\t"
    assert r["rows"] == 2


def test_mixed_line_endings_read_and_reported(tmp_path):
    r = run(tmp_path, b"id,name\n1,a\r\n2,b\r3,c\n")
    assert r["rows"] == 3 and r["malformed_rows"] == 0
    assert r["line_endings"] == {"kind": "mixed", "lf": 2, "crlf": 1, "cr": 1}
    assert "line_endings_mixed" in _codes(r)


def test_cr_only_json_lines(tmp_path):
    r = run(tmp_path, b'{"a": 1}\r{"a": 2}\r', name="d.jsonl")
    assert r["format"] == "jsonl" and r["rows"] == 2
    assert r["line_endings"]["kind"] == "CR"


def test_tsv_whose_values_hold_commas_has_its_four_columns(tmp_path):
    header = "name, full\tcity, country\tlat, lon\tnote"
    # as many commas on every line as in the header: comma splitting is consistent too
    rows = [f"Smith{i}, J\tWuhan, CN\t30.5, 114.3\tplain" for i in range(30)]
    r = run(tmp_path, "\n".join([header, *rows]) + "\n", name="d.tsv")
    assert r["format"] == "tsv" and r["delimiter"] == "\t"
    assert r["header"] == ["name, full", "city, country", "lat, lon", "note"]
    assert len(r["columns"]) == 4 and r["rows"] == 30 and r["malformed_rows"] == 0


@pytest.mark.parametrize(("delim", "name"), [(",", "comma"), (";", "semicolon"), ("|", "pipe"), ("\t", "tab")])
def test_delimiter_sniffed_by_field_count_consistency(tmp_path, delim, name):
    rows = [delim.join(["id", "label", "text"])] + [delim.join([str(i), "x", '"a, b; c | d"']) for i in range(10)]
    r = run(tmp_path, "\n".join(rows) + "\n")
    assert r["delimiter"] == delim, name
    assert r["header"] == ["id", "label", "text"] and r["rows"] == 10


def test_json_array_file_is_refused_saying_to_upload_json_lines(tmp_path):
    r = run(tmp_path, '[\n  {"a": 1},\n  {"a": 2}\n]\n', name="d.json")
    assert _codes(r) == ["json_array"]
    assert r["gates"]["passed"] is False
    assert "upload JSON Lines instead" in r["gates"]["failures"][0]


def test_json_lines_declared_key_absent_from_first_object_is_no_missing_column(tmp_path):
    data = '{"id": 1}\n{"id": 2, "note": "x", "tags": {"k": [1, 2]}}\n{"id": 3, "note": null}\n'
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "note"}]}
    r = run(tmp_path, data, schema, name="d.jsonl")
    assert "missing_declared_columns" not in _codes(r), r["findings"]
    assert r["rows"] == 3
    assert column(r, "note")["null_count"] == 2
    schema["fields"].append({"name": "never"})
    r = run(tmp_path, data, schema, name="d2.jsonl")
    assert [f["columns"] for f in r["findings"] if f["code"] == "missing_declared_columns"] == [["never"]]
