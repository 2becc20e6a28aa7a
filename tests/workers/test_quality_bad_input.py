"""Bad and hostile inputs: a report with a failed gate and a clear message, never an exception."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.workers._quality_helpers import run, write
from workers.quality import detect_format, profile, validate_table_schema


def _failed(r: dict, text: str) -> None:
    assert r["gates"]["passed"] is False
    assert any(text in f for f in r["gates"]["failures"]), r["gates"]["failures"]


def test_empty_file(tmp_path):
    r = run(tmp_path, b"")
    _failed(r, "file is empty")
    assert r["rows"] == 0 and r["grade"] == "E" and r["score"] == 0


def test_header_only_file(tmp_path):
    r = run(tmp_path, "a,b,c\n")
    _failed(r, "no data rows")
    assert r["header"] == ["a", "b", "c"]


def test_binary_garbage_named_csv(tmp_path):
    data = bytes(range(256)) * 40
    r = run(tmp_path, data)
    _failed(r, "binary content, not text")


def test_gzip_named_csv(tmp_path):
    r = run(tmp_path, gzip.compress(b"a,b\n1,2\n"))
    _failed(r, "file is gzip-compressed")
    assert detect_format(gzip.compress(b"x")) == "gzip"


def test_zip_archive(tmp_path):
    r = run(tmp_path, b"PK\x03\x04" + b"\0" * 100)
    _failed(r, "file is a ZIP archive")


def test_utf16_with_bom_is_read(tmp_path):
    r = run(tmp_path, "a,b\n1,2\n".encode("utf-16"))
    assert r["gates"]["passed"] is True and r["encoding"] == "utf-16-le" and r["rows"] == 1
    assert detect_format("a,b\n".encode("utf-16")) == "csv"


def test_utf16_without_bom(tmp_path):
    r = run(tmp_path, "a,b\n1,2\n".encode("utf-16-le"))
    _failed(r, "looks UTF-16 encoded")


def test_utf32(tmp_path):
    r = run(tmp_path, "a,b\n1,2\n".encode("utf-32"))
    _failed(r, "file is UTF-32 encoded (byte-order mark FF FE 00 00)")


def test_text_in_no_supported_encoding_is_refused_naming_the_byte(tmp_path):
    # 0x81 is undefined in Windows-1252; 0x81 0x81 0xFF is no GB18030 or Big5 sequence
    r = run(tmp_path, "name\ncafé\n".encode("cp1252") + b"\x81\x81\xff\n")
    _failed(r, "the file is not text in any supported encoding: byte offset 10 does not decode")


def test_ten_thousand_columns(tmp_path):
    header = ",".join(f"c{i}" for i in range(10_000))
    rows = "\n".join(",".join(str((i + j) % 10) for i in range(10_000)) for j in range(3))
    r = run(tmp_path, header + "\n" + rows + "\n")
    assert r["gates"]["passed"] is True
    assert r["rows"] == 3 and len(r["columns"]) == 10_000
    assert r["columns"][9_999]["distinct_count"] == 3


def test_single_64_mib_line(tmp_path):
    # given a data row with one 64 MiB value
    p = tmp_path / "big.csv"
    with open(p, "wb") as f:
        f.write(b"id,text\n1,")
        f.write(b"x" * (64 * 1024 * 1024))
        f.write(b"\n2,short\n")
    r = profile(p, None)
    assert r["gates"]["passed"] is True, r["gates"]["failures"]
    assert r["rows"] == 2
    assert r["columns"][1]["distinct_count"] == 2


def test_single_64_mib_line_on_a_stream_that_cannot_be_reread(tmp_path):
    class Stream(io.RawIOBase):
        def __init__(self, data):
            self._b = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self._b.readinto(b)

    data = b"id,text\n1," + b"y" * (64 * 1024 * 1024) + b"\n"
    r = profile(Stream(data), None)
    _failed(r, "a row is longer than 4 MiB")


def test_broken_json_lines(tmp_path):
    data = '{"a": 1, "b": "x"}\n{"a": 2, "b": \n[1, 2]\n{"a": 3, "b": "z"}\nnot json\n'
    r = run(tmp_path, data, name="data.jsonl")
    assert r["format"] == "jsonl"
    assert r["rows"] == 2
    assert r["malformed_rows"] == 3
    assert r["malformed_examples"] == [2, 3, 5]
    _failed(r, "3 of 5 rows (60.00%) have the wrong number of fields")


def test_parquet_with_mismatching_schema(tmp_path):
    p = tmp_path / "data.parquet"
    pq.write_table(pa.table({"id": [1, 2], "price": ["cheap", "dear"]}), p)
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "price", "type": "number"},
                         {"name": "when", "type": "date"}]}
    r = profile(p, schema)
    _failed(r, "missing declared columns: when")
    assert "column price: Parquet type string but the schema declares number" in r["warnings"]
    assert r["columns"][1]["invalid_count"] == 2


def test_truncated_parquet(tmp_path):
    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3]}), p)
    p.write_bytes(p.read_bytes()[:20])
    r = profile(p, None)
    _failed(r, "not a readable Parquet file")


def test_undecodable_byte_after_a_valid_head_fails_naming_its_offset(tmp_path):
    data = b"a,b\n" + b"1,x\n" * 300_000 + b"2,\x81\x20\n"
    bad = data.index(b"\x81")
    r = run(tmp_path, data)
    _failed(r, f"byte offset {bad} does not decode")


def test_invalid_schema_raises_value_error_naming_the_field(tmp_path):
    schema = {"fields": [{"name": "a"}, {"name": "b", "type": "integer"}, {"name": "c", "type": "integr"}]}
    p = write(tmp_path, "d.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match=r"fields\[2\]\.type: 'integr' is not a Table Schema type"):
        profile(p, schema)


def test_invalid_schema_json_text(tmp_path):
    # given schema JSON that does not parse, as an uploaded file would
    with pytest.raises(json.JSONDecodeError):
        json.loads('{"fields": [')
    assert validate_table_schema("{\"fields\": [") == ["schema: expected a JSON object, got str"]


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        profile(tmp_path / "nope.csv", None)


def test_json_lines_with_a_late_byte_no_encoding_reads_fails_naming_its_offset(tmp_path):
    # given 60,000 good JSON Lines (more than the 1 MiB head) and then a byte no supported encoding reads
    good = b"".join(b'{"a": %d, "b": "x"}\n' % i for i in range(60_000))
    r = run(tmp_path, good + b'{"a": 1, "b": "\x81 "}\n', name="d.jsonl")
    # then the check fails naming the byte offset and what was tried
    _failed(r, f"byte offset {len(good) + 15} does not decode")
    assert [f["code"] for f in r["findings"]] == ["encoding_undecodable"]


def test_json_lines_with_a_late_windows_1252_byte_is_read_whole(tmp_path):
    # given the same file whose late byte is Windows-1252 ("ÿ"): decided on the whole file, nothing lost
    good = b"".join(b'{"a": %d, "b": "x"}\n' % i for i in range(60_000))
    r = run(tmp_path, good + b'{"a": 1, "b": "\xff"}\n', name="d.jsonl")
    assert r["gates"]["passed"] is True and r["rows"] == 60_001
    assert r["encoding"] == "windows-1252"


