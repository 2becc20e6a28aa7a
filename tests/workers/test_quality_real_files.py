"""Reading real files right (issue 9 §2): encodings on the whole file, header and metadata
lines, the declared CSV dialect, JSON Lines key union. Each test builds its own small file."""

from __future__ import annotations

import json

import pytest

from tests.workers._quality_helpers import column, run
from workers.quality import QualityOptions
from workers.quality.dialect import Dialect

MiB = 1024 * 1024
ASCII_ROWS = "".join(f"{i},plain ascii text\n" for i in range(1, 70_001))  # > 1 MiB


def _codes(r: dict) -> list[str]:
    return [f["code"] for f in r["findings"]]


def _finding(r: dict, code: str) -> dict:
    return next(f for f in r["findings"] if f["code"] == code)


def _top(r: dict, name: str) -> dict[str, int]:
    return {t["value"]: t["count"] for t in column(r, name)["stats"]["top_values"]}


# ---- encodings -------------------------------------------------------------------------

def test_gb18030_whose_first_non_ascii_byte_is_after_the_first_mib(tmp_path):
    text = "id,city\n" + ASCII_ROWS + "".join(f"{70_000 + i},北京市朝阳区\n" for i in range(1, 301))
    data = text.encode("gb18030")
    assert data[: MiB + 1].isascii()
    r = run(tmp_path, data)
    assert r["encoding"] == "gb18030"
    assert r["rows"] == 70_300 and r["malformed_rows"] == 0
    assert r["gates"]["passed"] is True
    f = _finding(r, "encoding_detected")
    assert f["level"] == "info" and f["encoding"] == "gb18030"
    assert f["switched_at"] == data.index(b"\xb1")  # 北 starts with 0xB1 in GB18030
    assert "CJK ideographs" in f["reason"]
    assert _top(r, "city") == {"plain ascii text": 70_000, "北京市朝阳区": 300}


def test_cp1252_whose_first_non_ascii_byte_is_after_the_first_mib(tmp_path):
    text = "id,name\n" + ASCII_ROWS + "".join(f"{70_000 + i},José Pérez\n" for i in range(1, 301))
    r = run(tmp_path, text.encode("cp1252"))
    assert r["encoding"] == "windows-1252"
    assert r["rows"] == 70_300 and r["malformed_rows"] == 0
    assert _top(r, "name") == {"plain ascii text": 70_000, "José Pérez": 300}
    assert "ISO-8859-1" in _finding(r, "encoding_detected")["reason"]


def test_cp1252_file_that_is_valid_gb18030_is_read_as_cp1252(tmp_path):
    names = ["Müller", "Ångström", "Jürgen", "Gómez", "Françoise"]
    text = "id,name\n" + "".join(f"{i},{names[i % 5]}\n" for i in range(1, 501))
    data = text.encode("cp1252")
    data.decode("gb18030")  # the trap: valid GB18030 by bytes
    r = run(tmp_path, data)
    assert r["encoding"] == "windows-1252"
    assert _top(r, "name") == {n: 100 for n in names}
    assert "Latin text read as CJK" in _finding(r, "encoding_detected")["reason"]


def test_big5_file(tmp_path):
    cities = ["臺北市", "高雄市", "臺中市"]
    text = "編號,城市\n" + "".join(f"{i},{cities[i % 3]}\n" for i in range(1, 301))
    r = run(tmp_path, text.encode("big5"))
    assert r["encoding"] == "big5"
    assert r["header"] == ["編號", "城市"]
    assert _top(r, "城市") == {c: 100 for c in cities}


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_is_read(tmp_path, codec):
    text = "id,城市\n1,北京\n2,上海\n3,Zürich\n"
    data = text.encode(codec) if codec == "utf-16" else b"\xfe\xff" + text.encode(codec)
    r = run(tmp_path, data)
    assert r["encoding"] in ("utf-16-le", "utf-16-be")
    assert r["header"] == ["id", "城市"] and r["rows"] == 3
    assert _top(r, "城市") == {"北京": 1, "上海": 1, "Zürich": 1}


def test_undecodable_file_fails_with_the_byte_offset(tmp_path):
    data = b"id,x\n1,abc\n2,a\x81 b\n"
    r = run(tmp_path, data)
    assert r["gates"]["passed"] is False
    bad = data.index(b"\x81")
    f = _finding(r, "encoding_undecodable")
    assert f["level"] == "error" and f["offset"] == bad
    assert f"byte offset {bad} does not decode" in r["gates"]["failures"][0]


def test_undecodable_byte_after_the_first_mib(tmp_path):
    data = ("id,x\n" + ASCII_ROWS).encode() + b"9,\x81\x20x\n"
    r = run(tmp_path, data)
    assert r["gates"]["passed"] is False
    assert _finding(r, "encoding_undecodable")["offset"] == data.index(b"\x81") > MiB


def test_utf8_looking_head_refuted_later_is_read_again_from_the_start(tmp_path):
    # "Ã©" in Windows-1252 is C3 A9: valid UTF-8 in the head; a lone E9 (é) later is not
    text = "id,name\n1,CafÃ©\n" + ASCII_ROWS + "70001,é\n"
    data = text.encode("cp1252")
    r = run(tmp_path, data)
    assert r["encoding"] == "windows-1252"
    assert r["rows"] == 70_002  # counted once, not once per reading
    assert "encoding_mismatch" in _codes(r)
    assert "UTF-8" in _finding(r, "encoding_mismatch")["message"]


# ---- header and metadata lines ---------------------------------------------------------

IRIS = ("150,4,setosa,versicolor,virginica\n" + "".join(
    f"{5 + i % 3}.{i % 10},{3 + i % 2}.{i % 7},{1 + i % 5}.{i % 4},0.{i % 9},{i % 3}\n" for i in range(150)))


def test_iris_metadata_first_line_gives_generated_names_and_no_malformed_rows(tmp_path):
    r = run(tmp_path, IRIS)
    assert r["header"] == ["column_1", "column_2", "column_3", "column_4", "column_5"]
    assert r["rows"] == 150 and r["malformed_rows"] == 0
    assert {"metadata_lines", "header_missing"} <= set(_codes(r))
    assert _finding(r, "metadata_lines")["lines"] == ["150,4,setosa,versicolor,virginica"]
    assert column(r, "column_1")["type"] == "number"


def test_headerless_numeric_file_keeps_every_row(tmp_path):
    r = run(tmp_path, "".join(f"{i},{i * 1.5}\n" for i in range(1, 101)))
    assert r["header"] == ["column_1", "column_2"]
    assert r["rows"] == 100 and r["malformed_rows"] == 0
    assert "header_missing" in _codes(r)


def test_headerless_file_takes_the_schema_field_names(tmp_path):
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "price", "type": "number"}]}
    r = run(tmp_path, "".join(f"{i},{i * 1.5}\n" for i in range(1, 101)), schema)
    assert r["header"] == ["id", "price"] and r["rows"] == 100
    assert "missing_declared_columns" not in _codes(r) and r["gates"]["passed"] is True


def test_title_lines_before_the_header_are_skipped_and_line_numbers_stay_right(tmp_path):
    text = "Sales report\nexported 2024-05-01\nid,city,amount\n" + "".join(
        f"{i},Wuhan,{i}\n" for i in range(1, 201)) + "201,too,many,fields\n"
    r = run(tmp_path, text)
    assert r["header"] == ["id", "city", "amount"] and r["rows"] == 200
    assert r["malformed_rows"] == 1 and r["malformed_examples"] == [204]
    assert _finding(r, "metadata_lines")["lines"] == ["Sales report", "exported 2024-05-01"]


# ---- the declared CSV dialect -----------------------------------------------------------

def test_declared_dialect_beats_sniffed_and_the_report_shows_both(tmp_path):
    text = "a;b,c\n" + "".join(f"{i};{i},{i}\n" for i in range(1, 51))
    r = run(tmp_path, text, options=QualityOptions(dialect=Dialect(delimiter=";")))
    assert r["header"] == ["a", "b,c"] and r["rows"] == 50 and r["delimiter"] == ";"
    d = r["dialect"]
    assert d["declared"] == {"delimiter": ";"} and d["sniffed"]["delimiter"] == ","
    assert d["used"]["delimiter"] == ";" and d["differ"] == ["delimiter"]
    assert "dialect_differs" in _codes(r)


def test_declared_header_false_keeps_the_first_row_as_data(tmp_path):
    r = run(tmp_path, "x,y\nz,w\n", options=QualityOptions(dialect=Dialect(header=False)))
    assert r["header"] == ["column_1", "column_2"] and r["rows"] == 2


def test_declared_header_rows_comment_char_and_initial_spaces(tmp_path):
    text = ('# exported by ERP\nReport of May\nid, name, note\n# a comment\n'
            '1, Ann, "x, y"\n2,  Bob, z\n')
    dialect = Dialect(headerRows=(2,), commentChar="#", skipInitialSpace=True)
    r = run(tmp_path, text, options=QualityOptions(dialect=dialect))
    assert r["header"] == ["id", "name", "note"]
    assert r["rows"] == 2 and r["malformed_rows"] == 0
    assert [row["name"] for row in r["sample"]] == ["Ann", "Bob"]
    assert [row["note"] for row in r["sample"]] == ["x, y", "z"]
    assert r["blank_lines"] == 0  # comment lines are not blank lines


def test_declared_quote_and_escape_chars(tmp_path):
    text = "id|text\n1|'a|b'\n2|'it\\'s'\n"
    r = run(tmp_path, text, options=QualityOptions(dialect=Dialect(delimiter="|", quoteChar="'", escapeChar="\\")))
    assert r["rows"] == 2 and r["malformed_rows"] == 0
    assert [row["text"] for row in r["sample"]] == ["a|b", "it's"]


# ---- JSON Lines ---------------------------------------------------------------------------

def test_jsonl_columns_are_the_union_of_keys(tmp_path):
    lines = [{"id": 1, "text": "a"}, {"id": 2, "text": "b", "label": "pos"}, {"id": 3, "score": 0.5}]
    data = "".join(json.dumps(o) + "\n" for o in lines)
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "label", "type": "string"},
                         {"name": "score", "type": "number"}]}
    r = run(tmp_path, data, schema, name="d.jsonl")
    assert r["header"] == ["id", "text", "label", "score"]
    assert r["rows"] == 3 and r["gates"]["passed"] is True
    assert "missing_declared_columns" not in _codes(r)
    assert column(r, "label")["null_count"] == 2 and column(r, "score")["null_count"] == 2


def test_jsonl_nested_values_are_reported_not_crashed_on(tmp_path):
    lines = [{"id": 1, "meta": {"a": [1, 2]}, "tags": ["x"]}, {"id": 2, "meta": None, "tags": []},
             {"id": 3, "meta": {"b": {"c": None}}, "tags": "plain"}]
    r = run(tmp_path, "".join(json.dumps(o) + "\n" for o in lines), name="d.jsonl")
    assert r["rows"] == 3
    f = _finding(r, "nested_values")
    assert f["by_column"] == {"meta": 2, "tags": 2} and f["cells"] == 4


@pytest.mark.parametrize("data", [b"a,b", "a,b".encode("utf-16")])
def test_header_only_file_without_a_final_line_break_has_no_rows(tmp_path, data):
    r = run(tmp_path, data)
    assert r["rows"] == 0 and [f["code"] for f in r["findings"] if f["level"] == "error"] == ["no_rows"]
