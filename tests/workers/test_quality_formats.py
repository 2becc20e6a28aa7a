"""Encodings, delimiters, JSON Lines, Parquet, streams and progress."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from tests.workers._quality_helpers import column, run
from workers.quality import detect_format, profile


def test_gb18030_input_is_detected_and_decoded(tmp_path):
    data = "城市,人口\n北京,2189\n上海,2487\n广州,\n".encode("gb18030")
    r = run(tmp_path, data)
    assert r["encoding"] == "gb18030"
    assert r["header"] == ["城市", "人口"]
    assert r["rows"] == 3
    assert r["sample"][0] == {"城市": "北京", "人口": "2189"}
    assert column(r, "人口")["null_count"] == 1


def test_utf8_bom(tmp_path):
    r = run(tmp_path, b"\xef\xbb\xbfid,name\n1,a\n")
    assert r["encoding"] == "utf-8-sig"
    assert r["header"] == ["id", "name"]
    assert r["rows"] == 1


def test_plain_utf8_with_chinese(tmp_path):
    r = run(tmp_path, "名称,值\n苹果,1\n")
    assert r["encoding"] == "utf-8"
    assert r["header"] == ["名称", "值"]


def test_tsv_delimiter_sniffed(tmp_path):
    r = run(tmp_path, "a\tb\n1,5\tx\n2\ty\n", name="data.txt")
    assert r["format"] == "tsv"
    assert r["delimiter"] == "\t"
    assert r["sample"][0] == {"a": "1,5", "b": "x"}


def test_semicolon_delimiter_sniffed(tmp_path):
    r = run(tmp_path, "a;b\n1,5;x\n2;y\n")
    assert r["format"] == "csv"
    assert r["delimiter"] == ";"
    assert r["rows"] == 2


def test_format_detected_by_content_not_extension(tmp_path):
    r = run(tmp_path, '{"a": 1}\n{"a": 2}\n', name="data.csv")
    assert r["format"] == "jsonl"
    assert detect_format(b"PAR1....") == "parquet"
    assert detect_format(b"a,b\n1,2\n") == "csv"
    assert detect_format(b"") == "empty"


def test_json_lines_values_as_text(tmp_path):
    data = ('{"id": 1, "x": 1.5, "ok": true, "tags": ["a"], "s": "13812345678"}\n'
            '\n'
            '{"id": 2, "x": null, "ok": false, "tags": [], "s": "n"}\n'
            '{"id": 2, "x": null, "ok": false, "tags": [], "s": "n"}\n')
    r = run(tmp_path, data, name="d.jsonl")
    assert r["format"] == "jsonl"
    assert r["rows"] == 3
    assert r["duplicate_rows"] == 1
    assert r["sample"][0] == {"id": "1", "x": "1.5", "ok": "true", "tags": '["a"]', "s": "13812345678"}
    assert column(r, "x")["null_count"] == 2
    assert r["pii"]["mobile"] == 1
    assert r["malformed_rows"] == 0


def test_parquet_profiled_with_matching_schema(tmp_path):
    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({"id": [1, 2, 2, None], "name": ["a", "b", "b", "c"]}), p)
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]}
    r = profile(p, schema)
    assert r["format"] == "parquet"
    assert r["rows"] == 4
    assert r["duplicate_rows"] == 1
    assert column(r, "id")["null_count"] == 1
    assert (column(r, "id")["min"], column(r, "id")["max"]) == (1, 2)
    assert r["warnings"] == []
    assert r["gates"]["passed"] is True


def test_parquet_from_non_seekable_stream(tmp_path):
    buf = io.BytesIO()
    pq.write_table(pa.table({"a": ["x", "y"]}), buf)

    class Stream(io.RawIOBase):
        def __init__(self, data):
            self._b = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, b):
            return self._b.readinto(b)

    r = profile(Stream(buf.getvalue()), None)
    assert r["rows"] == 2 and r["format"] == "parquet"


def test_csv_from_non_seekable_stream_in_small_reads(tmp_path):
    class Trickle(io.RawIOBase):
        def __init__(self, data):
            self._b = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self._b.readinto(memoryview(b)[:1000])

    data = ("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(20_000))).encode()
    r = profile(Trickle(data), None, total_bytes=len(data))
    assert r["rows"] == 20_000
    assert column(r, "b")["distinct_count"] == 3
    assert r["bytes"] == len(data)


def test_progress_callback_reports_rows_bytes_and_percent(tmp_path):
    from workers.quality import QualityOptions

    data = "a,b\n" + "".join(f"{i},{i}\n" for i in range(50_000))
    calls = []
    r = run(tmp_path, data, options=QualityOptions(block_size=64 * 1024),
            progress=lambda rows, nbytes, pct: calls.append((rows, nbytes, pct)))
    assert calls, "progress never called"
    assert calls[-1] == (50_000, len(data), 100.0)
    assert all(0 <= c[2] <= 100 for c in calls)
    assert len(calls) < 100  # per batch and throttled, not per row
    assert r["rows"] == 50_000


def test_duplicates_exact_when_keys_spill_to_disk(tmp_path):
    from workers.quality import QualityOptions

    # given more key bytes than the (tiny) budget so partitions are spilled and re-read
    rows = [f"{i % 30_000},row-{i % 30_000}-{'x' * 40}\n" for i in range(60_000)]
    data = "a,b\n" + "".join(rows)
    opts = QualityOptions(memory_limit_bytes=32 * 1024 * 1024, block_size=256 * 1024, spill_dir=str(tmp_path))
    r = run(tmp_path, data, options=opts)
    assert r["rows"] == 60_000
    assert r["duplicate_rows"] == 30_000
    assert column(r, "a")["distinct_count"] == 30_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("quality-")]
