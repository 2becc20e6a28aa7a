"""Table Schema properties and constraints are applied (one small file per property)."""

from __future__ import annotations

import json

import pytest

from tests.workers._quality_helpers import column, run
from workers.quality import validate_table_schema


def one(field: dict, **schema) -> dict:
    return {"fields": [field], **schema}


def finding(report: dict, code: str, field: str | None = None) -> dict | None:
    return next((f for f in report["findings"] if f["code"] == code and (field is None or f["field"] == field)), None)


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


# ---- missing values ------------------------------------------------------------------
def test_schema_missing_values_are_nulls_not_type_errors(tmp_path):
    r = run(tmp_path, "age\n12\nNA\n\n7\n-\n", one({"name": "age", "type": "integer"}, missingValues=["", "NA", "-"]))
    c = column(r, "age")
    assert (c["null_count"], c["invalid_count"], c["distinct_count"]) == (2, 0, 2)


def test_field_missing_values_override_the_schema_level(tmp_path):
    schema = {"missingValues": ["", "NA"], "fields": [
        {"name": "a", "type": "integer"}, {"name": "b", "type": "integer", "missingValues": ["", "n/a"]}]}
    r = run(tmp_path, "a,b\nNA,NA\nn/a,n/a\n1,2\n", schema)
    a, b = column(r, "a"), column(r, "b")
    assert (a["null_count"], a["invalid_count"]) == (1, 1)  # NA null, n/a invalid
    assert (b["null_count"], b["invalid_count"]) == (1, 1)  # n/a null, NA invalid


def test_whitespace_only_cells_are_empty(tmp_path):
    r = run(tmp_path, "n,s\n1,x\n \u3000,\t\n  ,y\n", {"fields": [{"name": "n", "type": "integer"}, {"name": "s"}]})
    assert (column(r, "n")["null_count"], column(r, "n")["invalid_count"]) == (2, 0)
    assert column(r, "s")["null_count"] == 1


def test_label_in_missing_values_is_missing_not_outside_set(tmp_path):
    schema = {"missingValues": ["", "NA"], "fields": [{"name": "t"}, {"name": "y"}],
              "labelField": "y", "labels": ["pos", "neg"]}
    r = run(tmp_path, "t,y\na,pos\nb,NA\nc, \nd,other\n", schema)
    assert (r["labels"]["missing"], r["labels"]["outside_set"]) == (2, 1)


def test_missing_values_in_json_lines(tmp_path):
    r = run(tmp_path, jsonl([{"n": 1, "k": 1}, {"n": "NA", "k": 2}, {"n": None, "k": 3}, {"n": "x", "k": 4}]),
            one({"name": "n", "type": "integer"}, missingValues=["", "NA"]), name="d.jsonl")
    assert (column(r, "n")["null_count"], column(r, "n")["invalid_count"]) == (2, 1)


# ---- formats -----------------------------------------------------------------------
def test_date_strptime_format(tmp_path):
    r = run(tmp_path, "d\n01/02/1912\n31/12/1911\n31/02/1912\n1912-04-10\n15/4/1912\n",
            one({"name": "d", "type": "date", "format": "%d/%m/%Y"}))
    c = column(r, "d")
    # 31/02 is no calendar day, ISO text is not the declared format; 15/4 is (like strptime)
    assert (c["invalid_count"], c["min"], c["max"]) == (2, "1911-12-31", "1912-04-15")
    assert r["grade"] != "C" and r["score_breakdown"]["conformance"] < 20


def test_date_default_and_any_formats(tmp_path):
    data = "d\n2020-01-31\n31/01/2020\n2020/01/30\nnot a date\n"
    default = column(run(tmp_path, data, one({"name": "d", "type": "date", "format": "default"})), "d")
    anyfmt = column(run(tmp_path, data, one({"name": "d", "type": "date", "format": "any"})), "d")
    assert default["invalid_count"] == 3
    assert (anyfmt["invalid_count"], anyfmt["min"], anyfmt["max"]) == (1, "2020-01-30", "2020-01-31")


def test_datetime_and_time_formats(tmp_path):
    schema = {"fields": [{"name": "at", "type": "datetime", "format": "%d/%m/%Y %H:%M"},
                         {"name": "t", "type": "time", "format": "%I:%M %p"}]}
    r = run(tmp_path, "at,t\n10/04/1912 12:30,01:30 PM\n10/04/1912 25:00,13:30 PM\n", schema)
    at, t = column(r, "at"), column(r, "t")
    assert (at["invalid_count"], at["min"]) == (1, "1912-04-10T12:30:00")
    assert (t["invalid_count"], t["min"]) == (1, "13:30:00")


def test_decimal_char_and_group_char(tmp_path):
    field = {"name": "p", "type": "number", "decimalChar": ",", "groupChar": " "}
    c = column(run(tmp_path, 'p\n"1 234,5"\n"7,25"\n1.5\nabc\n', one(field)), "p")
    assert (c["invalid_count"], c["min"], c["max"]) == (2, 7.25, 1234.5)  # "1.5" has the wrong decimal char


def test_decimal_char_in_json_lines_accepts_native_numbers(tmp_path):
    field = {"name": "p", "type": "number", "decimalChar": ","}
    c = column(run(tmp_path, jsonl([{"p": 1.5}, {"p": "2,5"}, {"p": "x"}]), one(field), name="d.jsonl"), "p")
    assert (c["invalid_count"], c["min"], c["max"]) == (1, 1.5, 2.5)


def test_group_char_on_integer(tmp_path):
    c = column(run(tmp_path, 'n\n"1,000"\n12\n"1.000"\n', one({"name": "n", "type": "integer", "groupChar": ","})), "n")
    assert (c["invalid_count"], c["max"]) == (1, 1000)


def test_bare_number_false_strips_currency_and_percent(tmp_path):
    bare = column(run(tmp_path, "n\n€95\n10%\n-3\n", one({"name": "n", "type": "number"})), "n")
    loose = column(run(tmp_path, "n\n€95\n10%\n-3\n", one({"name": "n", "type": "number", "bareNumber": False})), "n")
    assert bare["invalid_count"] == 2
    assert (loose["invalid_count"], loose["min"], loose["max"]) == (0, -3.0, 95.0)


def test_true_and_false_values(tmp_path):
    field = {"name": "b", "type": "boolean", "trueValues": ["是", "Y"], "falseValues": ["否", "N"]}
    c = column(run(tmp_path, "b\n是\n否\nY\ntrue\n", one(field)), "b")
    assert c["invalid_count"] == 1  # "true" is not declared
    default = column(run(tmp_path, "b\n是\ntrue\n0\n", one({"name": "b", "type": "boolean"})), "b")
    assert default["invalid_count"] == 1


def test_true_values_in_json_lines_accept_json_booleans(tmp_path):
    field = {"name": "b", "type": "boolean", "trueValues": ["yes"], "falseValues": ["no"]}
    c = column(run(tmp_path, jsonl([{"b": True}, {"b": "no"}, {"b": "maybe"}]), one(field), name="d.jsonl"), "b")
    assert c["invalid_count"] == 1


@pytest.mark.parametrize(("ftype", "good", "bad"), [
    ("year", "1912", "19x2"), ("duration", "P1DT2H", "1 day"), ("geopoint", "116.4, 39.9", "north"),
    ("integer", "-12", "1.5"), ("number", "1e3", "one"), ("string", "anything", None),
])
def test_other_types_with_a_constraint(tmp_path, ftype, good, bad):
    # quoted: the geopoint "116.4, 39.9" holds the delimiter
    data = f'v\n"{good}"\n' + (f'"{bad}"\n' if bad else "")
    r = run(tmp_path, data, one({"name": "v", "type": ftype, "constraints": {"required": True}}))
    assert r["malformed_rows"] == 0
    assert column(r, "v")["invalid_count"] == (1 if bad else 0)
    assert r["findings"] == []


# ---- constraints ---------------------------------------------------------------------
def test_constraint_required(tmp_path):
    schema = {"missingValues": ["", "NA"], "fields": [{"name": "a", "type": "integer", "constraints": {"required": True}}]}
    r = run(tmp_path, "a,k\n1,1\n,2\nNA,3\n4,4\n", schema)
    f = finding(r, "constraint_required", "a")
    assert (f["count"], f["rows"]) == (2, [3, 4])
    assert not r["gates"]["passed"]
    assert any(m.startswith("constraint_required: column a") for m in r["gates"]["failures"])


def test_constraint_unique_compares_values_and_ignores_nulls(tmp_path):
    data = "id,k\n1,a\n2,b\n01,c\n,d\n,e\n2,f\n3,g\n"
    r = run(tmp_path, data, one({"name": "id", "type": "integer", "constraints": {"unique": True}}))
    f = finding(r, "constraint_unique", "id")
    assert (f["count"], f["rows"]) == (2, [4, 7])  # 01 repeats 1 (row 2), the second 2 repeats row 3
    assert not r["gates"]["passed"] and r["score_breakdown"]["uniqueness"] < 15


def test_constraint_unique_spills_with_bounded_memory(tmp_path):
    from workers.quality import QualityOptions

    n = 60_000
    rows = [f"k{i:07d}-{'x' * 40}" for i in range(n)] + ["k0000005-" + "x" * 40, "k0059999-" + "x" * 40]
    opts = QualityOptions(memory_limit_bytes=32 * 1024 * 1024, batch_rows=4096, block_size=64 * 1024)
    r = run(tmp_path, "k\n" + "\n".join(rows) + "\n", one({"name": "k", "constraints": {"unique": True}}), options=opts)
    f = finding(r, "constraint_unique", "k")
    assert (f["count"], f["rows"]) == (2, [n + 2, n + 3])


def test_constraint_enum_uses_typed_values(tmp_path):
    schema = {"fields": [{"name": "c", "type": "integer", "constraints": {"enum": ["1", 2, 3]}},
                         {"name": "s", "constraints": {"enum": ["male", "female"]}}]}
    r = run(tmp_path, "c,s\n1,male\n02,Male\n4,\nx,female\n", schema)
    assert finding(r, "constraint_enum", "c")["rows"] == [4]  # 02 is 2; x is a type error only
    assert (finding(r, "constraint_enum", "s")["count"], finding(r, "constraint_enum", "s")["rows"]) == (1, [3])
    assert column(r, "c")["invalid_count"] == 1
    assert r["gates"]["passed"]


def test_constraint_minimum_and_maximum(tmp_path):
    field = {"name": "age", "type": "number", "constraints": {"minimum": 0, "maximum": 100}}
    r = run(tmp_path, "age\n0\n-1\n100\n100.5\n\n", one(field))
    assert finding(r, "constraint_minimum", "age")["rows"] == [3]
    assert finding(r, "constraint_maximum", "age")["rows"] == [5]


def test_constraint_minimum_on_formatted_dates(tmp_path):
    field = {"name": "d", "type": "date", "format": "%d/%m/%Y", "constraints": {"minimum": "10/04/1912",
                                                                               "maximum": "1912-04-15"}}
    r = run(tmp_path, "d\n09/04/1912\n10/04/1912\n15/04/1912\n16/04/1912\n", one(field))
    assert (finding(r, "constraint_minimum")["rows"], finding(r, "constraint_maximum")["rows"]) == ([2], [5])


def test_constraint_min_length_and_max_length(tmp_path):
    field = {"name": "s", "constraints": {"minLength": 2, "maxLength": 3}}
    r = run(tmp_path, "s\na\nab\n数据质\n数据质量\n", one(field))  # code points, not bytes
    assert finding(r, "constraint_min_length")["rows"] == [2]
    assert finding(r, "constraint_max_length")["rows"] == [5]


def test_constraint_pattern_is_anchored(tmp_path):
    field = {"name": "t", "constraints": {"pattern": "[A-Z][0-9]+"}}
    r = run(tmp_path, "t\nA12\nxA12\nA12x\nB7\n", one(field))
    f = finding(r, "constraint_pattern", "t")
    assert (f["count"], f["rows"]) == (2, [3, 4])
    assert r["gates"]["passed"] and r["score_breakdown"]["conformance"] < 20


def test_constraint_rows_are_a_bounded_list(tmp_path):
    r = run(tmp_path, "n\n" + "-1\n" * 500, one({"name": "n", "type": "integer", "constraints": {"minimum": 0}}))
    f = finding(r, "constraint_minimum")
    assert f["count"] == 500 and f["rows"] == list(range(2, 22))


def test_constraints_in_json_lines(tmp_path):
    field = {"name": "n", "type": "integer", "constraints": {"required": True, "maximum": 5}}
    r = run(tmp_path, jsonl([{"n": 1, "k": 1}, {"n": None, "k": 2}, {"n": 9, "k": 3}]), one(field), name="d.jsonl")
    assert finding(r, "constraint_required")["rows"] == [3]
    assert finding(r, "constraint_maximum")["rows"] == [4]


def test_clean_file_with_constraints_keeps_its_grade(tmp_path):
    field = {"name": "n", "type": "integer", "constraints": {"required": True, "unique": True, "minimum": 0}}
    r = run(tmp_path, "n\n" + "".join(f"{i}\n" for i in range(50)), one(field))
    assert (r["findings"], r["score"], r["gates"]["passed"]) == ([], 100, True)


# ---- refusals ----------------------------------------------------------------------
@pytest.mark.parametrize(("schema", "message"), [
    ({"fields": [{"name": "a"}], "foreignKeys": []}, "foreignKeys: not supported by Shujiao"),
    (one({"name": "a", "type": "integer", "decimalChar": ","}), "fields[0].decimalChar: applies to number fields only"),
    (one({"name": "a", "type": "string", "trueValues": ["y"]}), "fields[0].trueValues: applies to boolean fields only"),
    (one({"name": "a", "rdfType": "x"}), "fields[0].rdfType: not supported"),
    (one({"name": "a", "type": "date", "format": "%d/%U"}), "fields[0].format: the directive %U is not supported"),
    (one({"name": "a", "type": "date", "format": "dd/mm/yyyy"}), "fields[0].format: 'dd/mm/yyyy' is not"),
    (one({"name": "a", "type": "geopoint", "format": "array"}), "fields[0].format: 'array' is not supported for geopoint"),
    (one({"name": "a", "type": "integer", "constraints": {"pattern": "[0-9]+"}}),
     "fields[0].constraints.pattern: not supported for integer fields"),
    (one({"name": "a", "type": "integer", "constraints": {"exclusiveMinimum": 1}}),
     "fields[0].constraints.exclusiveMinimum: not supported"),
    (one({"name": "a", "constraints": {"pattern": "(?=a)b"}}), "fields[0].constraints.pattern: not a valid RE2"),
    (one({"name": "a", "type": "integer", "constraints": {"minimum": "ten"}}), "fields[0].constraints.minimum: 'ten' is not an integer"),
    (one({"name": "a", "type": "date", "constraints": {"maximum": "31/02/2020"}}), "fields[0].constraints.maximum: '31/02/2020' is not a date"),
    (one({"name": "a", "type": "integer", "constraints": {"enum": [1, "x"]}}), "fields[0].constraints.enum: 'x' is not an integer"),
    (one({"name": "a", "constraints": {"required": "yes"}}), "fields[0].constraints.required: must be true or false"),
    (one({"name": "a", "constraints": {"minLength": -1}}), "fields[0].constraints.minLength: must be a non-negative integer"),
    (one({"name": "a", "type": "number", "groupChar": ",,"}), "fields[0].groupChar: must be one character"),
])
def test_unsupported_or_bad_properties_are_refused_by_name(schema, message):
    errors = validate_table_schema(schema)
    assert any(e.startswith(message) for e in errors), errors


def test_every_applied_property_is_accepted():
    schema = {"name": "t", "title": "T", "description": "d", "missingValues": ["", "NA"], "primaryKey": "id",
              "fields": [
                  {"name": "id", "type": "integer", "bareNumber": False, "groupChar": ",",
                   "constraints": {"required": True, "unique": True, "minimum": 1, "maximum": 10**9, "enum": [1, 2]}},
                  {"name": "p", "type": "number", "decimalChar": ",", "groupChar": ".", "missingValues": ["-"]},
                  {"name": "b", "type": "boolean", "trueValues": ["Y"], "falseValues": ["N"], "constraints": {"enum": ["Y"]}},
                  {"name": "d", "type": "date", "format": "%d/%m/%Y", "constraints": {"minimum": "01/04/1912"}},
                  {"name": "dt", "type": "datetime", "format": "any"}, {"name": "tm", "type": "time", "format": "default"},
                  {"name": "s", "title": "S", "description": "x", "example": "ab", "format": "email",
                   "constraints": {"minLength": 1, "maxLength": 9, "pattern": "[a-z@.]+", "enum": ["a@b.cn"]}},
                  {"name": "y", "type": "year", "constraints": {"minimum": 1900}}, {"name": "du", "type": "duration"},
                  {"name": "g", "type": "geopoint"}]}
    assert validate_table_schema(schema) == []


def test_parquet_native_dates_and_numbers_satisfy_formats_and_constraints(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"d": pa.array([dt.date(1912, 4, 10), dt.date(1912, 4, 20), None]),
                             "p": pa.array([1.5, -2.0, 3.0])}), path)
    schema = {"fields": [{"name": "d", "type": "date", "format": "%d/%m/%Y", "constraints": {"maximum": "15/04/1912"}},
                         {"name": "p", "type": "number", "decimalChar": ",", "constraints": {"minimum": 0}}]}
    from workers.quality import profile

    r = profile(path, schema)
    assert (column(r, "d")["invalid_count"], column(r, "p")["invalid_count"]) == (0, 0)
    assert finding(r, "constraint_maximum", "d")["rows"] == [3]
    assert finding(r, "constraint_minimum", "p")["rows"] == [3]
