"""The buyer's Parquet copy (workers/delivery/parquet.py): pure code, the same rows, or nothing."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from workers.delivery.parquet import ParquetConversionError, schema_string, write_parquet


def convert(data: bytes, fmt: str, **kwargs) -> tuple[list[dict], object, bytes]:
    out = io.BytesIO()
    result = write_parquet(io.BytesIO(data), out, fmt=fmt, **kwargs)
    return pq.read_table(io.BytesIO(out.getvalue())).to_pylist(), result, out.getvalue()


def test_csv_rows_stay_text_unless_typed_and_nothing_is_inferred():
    data = ("code,amount,ok,note\n007,12,true,\"two\nlines\"\n010,,false,很好\n").encode()

    rows, result, raw = convert(data, "csv", column_types={"amount": "integer", "ok": "boolean"})

    assert rows == [{"code": "007", "amount": 12, "ok": True, "note": "two\nlines"},
                    {"code": "010", "amount": None, "ok": False, "note": "很好"}]
    assert result.rows == 2 and result.size == len(raw) and result.columns == ("code", "amount", "ok", "note")
    assert json.loads(result.schema_string)["fields"][1] == {"name": "amount", "type": "long", "nullable": True,
                                                              "metadata": {}}


def test_gb18030_tsv_with_declared_missing_values():
    data = "名称\t价格\n苹果\t3.5\n梨\tNA\n".encode("gb18030")
    rows, result, _ = convert(data, "tsv", column_types={"价格": "number"}, missing_values=("", "NA"))
    assert rows == [{"名称": "苹果", "价格": 3.5}, {"名称": "梨", "价格": None}]


def test_a_utf8_bom_is_not_part_of_the_first_column_name():
    rows, _, _ = convert("\ufeffa,b\n1,2\n".encode(), "csv")
    assert rows == [{"a": "1", "b": "2"}]


@pytest.mark.parametrize("data, types, fragment", [
    (b"id\n1\nx\n", {"id": "integer"}, "not a valid integer"),
    (b"a,b\n1,2\n3\n", {}, "Expected 2 columns, got 1"),
    (b"ok\nyes\n", {"ok": "boolean"}, "not a valid boolean"),
])
def test_a_row_that_cannot_be_copied_faithfully_refuses_the_whole_copy(data, types, fragment):
    with pytest.raises(ParquetConversionError, match=fragment):
        convert(data, "csv", column_types=types)


def test_json_lines_follow_the_declared_columns_and_keep_nested_values_as_json():
    data = b'{"id": 1, "t": "a", "x": {"k": [1, 2]}}\n\n{"t": null, "id": 2}\n'
    rows, result, _ = convert(data, "jsonl", column_types={"id": "integer"}, columns=["id", "t", "x"])
    assert rows == [{"id": 1, "t": "a", "x": '{"k":[1,2]}'}, {"id": 2, "t": None, "x": None}]
    with pytest.raises(ParquetConversionError, match="'extra' is not among"):
        convert(b'{"id": 1}\n{"id": 2, "extra": 3}\n', "jsonl", columns=["id"])
    with pytest.raises(ParquetConversionError, match="not an integer"):
        convert(b'{"id": "1"}\n', "jsonl", column_types={"id": "integer"})


def test_parquet_keeps_its_types_and_what_delta_cannot_describe_becomes_text():
    buf = io.BytesIO()
    pq.write_table(pa.table({"n": pa.array([1, 2], pa.uint16()), "t": pa.array([1, None], pa.time32("s")),
                             "s": ["a", "b"]}), buf)
    rows, result, _ = convert(buf.getvalue(), "parquet")
    assert rows == [{"n": 1, "t": "00:00:01.000", "s": "a"}, {"n": 2, "t": None, "s": "b"}]
    assert [f["type"] for f in json.loads(result.schema_string)["fields"]] == ["integer", "string", "string"]


def test_schema_string_maps_arrow_types_to_delta_primitives():
    schema = pa.schema([("a", pa.int32()), ("b", pa.float64()), ("c", pa.date32()), ("d", pa.decimal128(10, 2)),
                        ("e", pa.timestamp("us", tz="UTC")), ("f", pa.bool_())])
    assert [f["type"] for f in json.loads(schema_string(schema))["fields"]] == [
        "integer", "double", "date", "decimal(10,2)", "timestamp", "boolean"]


def test_the_converter_imports_no_django():
    code = "import sys, workers.delivery.parquet; print(any(m.startswith('django') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_csv_is_read_with_the_quality_checks_rules_encoding_and_header():
    # Windows-1252 (valid GB18030 by bytes), and a metadata line above headerless numbers
    rows, _, _ = convert("id,name\n1,Müller\n2,Ångström\n".encode("cp1252"), "csv")
    assert rows == [{"id": "1", "name": "Müller"}, {"id": "2", "name": "Ångström"}]
    iris = "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,1\n6.3,3.3,6.0,2.5,2\n"
    rows, result, _ = convert(iris.encode(), "csv")
    assert result.columns == ("column_1", "column_2", "column_3", "column_4", "column_5")
    assert len(rows) == 3 and rows[0]["column_1"] == "5.1"


def test_csv_in_utf16_with_bom_and_big5():
    rows, _, _ = convert("id,城市\n1,北京\n".encode("utf-16"), "csv")
    assert rows == [{"id": "1", "城市": "北京"}]
    rows, _, _ = convert(("編號,城市\n" + "".join(f"{i},臺北市\n" for i in range(30))).encode("big5"), "csv")
    assert rows[0] == {"編號": "0", "城市": "臺北市"} and len(rows) == 30


def test_csv_whose_text_does_not_decode_is_refused_whole():
    with pytest.raises(ParquetConversionError, match="not text in any supported encoding: byte offset 21 "):
        convert("id,城市\n1,北京\n".encode() + b"2,\x81\x20\n", "csv")
    late = b"id,x\n" + b"".join(b"%d,plain\n" % i for i in range(200_000)) + b"9,\x81\x20\n"  # after the head
    bad = late.index(b"\x81")
    with pytest.raises(ParquetConversionError, match=f"could not be read as UTF-8: .*byte offset {bad} "):
        convert(late, "csv")
