"""The typed report (workers/quality/report.py) and the package's shape."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workers.quality import QualityOptions, profile
from workers.quality.report import ABSENT, SCHEMA_VERSION, Report

from ._quality_helpers import run

SCHEMA = {
    "fields": [{"name": "id", "type": "integer", "constraints": {"unique": True}},
               {"name": "text", "type": "string"}, {"name": "label", "type": "string"}],
    "primaryKey": "id", "labelField": "label", "labels": ["pos", "neg"], "personalData": False,
}
CSV = ("id,text,label\n1,hello,pos\n2,call 13800138000,neg\n2,=SUM(A1),maybe\n3,hello,neg\n"
       "4,\"two\nlines\",\n5,a,b,c\n")


def _files(tmp_path: Path) -> dict[str, dict]:
    reports = {
        "csv": run(tmp_path, CSV, SCHEMA),
        "csv-no-schema": run(tmp_path, CSV),
        "jsonl": run(tmp_path, '{"id": 1, "text": "x\\u0000y", "label": "pos"}\n{"id": 2, "extra": [1]}\nnot json\n',
                     SCHEMA, name="d.jsonl"),
        "empty": run(tmp_path, b""),
        "json-array": run(tmp_path, '[{"id": 1}]', name="d.json"),
        "header-only": run(tmp_path, "id,text,label\n", SCHEMA),
        "mixed-endings": run(tmp_path, b"a,b\n1,2\r\n3,4\r5,6\n"),
        "serial": run(tmp_path, CSV, SCHEMA, options=QualityOptions(reader_threads=False)),
    }
    pq.write_table(pa.table({"id": [1, 2, 2], "text": ["a", "b", None], "label": ["pos", "neg", "x"]}),
                   tmp_path / "d.parquet")
    reports["parquet"] = profile(tmp_path / "d.parquet", SCHEMA)
    return reports


def test_round_trip_of_every_kind_of_report_is_exact(tmp_path):
    # given reports of CSV, JSON Lines, Parquet, refused and empty files
    for name, d in _files(tmp_path).items():
        # when read as a typed report and written back
        typed = Report.from_dict(d)
        # then the dict is the same key for key, and survives JSON
        assert typed.to_dict() == d, name
        assert Report.from_dict(json.loads(json.dumps(d))).to_dict() == d, name
        assert typed.schema_version == SCHEMA_VERSION == d["schema_version"]


def test_typed_fields_match_the_dict(tmp_path):
    d = run(tmp_path, CSV, SCHEMA)
    r = Report.from_dict(d)
    assert r.rows == d["rows"] == 5  # row 4 holds a quoted newline; "5,a,b,c" is malformed
    assert r.malformed_rows == 1 and r.malformed_examples == [8]
    assert [c.name for c in r.columns] == ["id", "text", "label"]
    assert r.columns[0].type == "integer" and r.columns[0].declared is True
    assert r.primary_key_duplicates == 1
    assert r.labels is not None and r.labels.distribution == {"pos": 1, "neg": 2}
    assert (r.labels.outside_set, r.labels.missing, r.labels.conflicts) == (1, 1, 1)  # "hello": pos and neg
    assert r.pii.mobile == 1 and r.pii.found
    assert r.formula_injection == 1
    assert r.passed is False and r.gates.failures == d["gates"]["failures"]
    assert "constraint_unique" in r.codes()
    assert r.has("constraint_unique") and not r.has("json_array")
    assert sum(x.points for x in r.score_deductions) == pytest.approx(100 - r.score)


def test_keys_a_report_leaves_out_stay_out(tmp_path):
    # given a report without a primary key declared, and one refused before reading
    no_pk = run(tmp_path, "a,b\n1,2\n")
    refused = run(tmp_path, '[{"a": 1}]', name="x.json")
    assert "primary_key_duplicates" not in no_pk and "blank_lines" not in refused
    # then the typed report says ABSENT (falsy, not None) and writes nothing back
    assert Report.from_dict(no_pk).primary_key_duplicates is ABSENT
    assert not ABSENT and str(ABSENT) == ""
    assert "primary_key_duplicates" not in Report.from_dict(no_pk).to_dict()
    assert Report.from_dict(refused).codes("error") == ["json_array"]


def test_reports_stored_before_schema_version_and_unknown_keys(tmp_path):
    # given a report as stored by the code before schema_version, with a key from the future
    d = run(tmp_path, CSV, SCHEMA)
    old = {k: v for k, v in d.items() if k != "schema_version"}
    old["future"] = {"x": 1}
    old["columns"][0]["future_col"] = 2
    # when read
    r = Report.from_dict(old)
    # then it is version 1, and unknown keys are kept for the round trip
    assert r.schema_version == 1
    assert r.extra == {"future": {"x": 1}} and r.columns[0].extra == {"future_col": 2}
    assert r.to_dict() == {**old, "schema_version": 1}


def test_a_damaged_or_minimal_stored_report_reads_with_defaults():
    r = Report.from_dict({"score": 71, "grade": "C", "gates": {"passed": True}, "columns": ["junk", {"name": "a"}],
                          "labels": "junk", "pii": None, "findings": [{"code": "x"}, 3]})
    assert (r.score, r.grade, r.passed, r.rows) == (71, "C", True, 0)
    assert [c.name for c in r.columns] == ["a"] and r.labels is None and r.pii.mobile == 0
    assert r.codes() == ["x"] and r.findings[0].level is ABSENT
    assert Report.from_dict(None).rows == 0


def test_no_module_in_the_package_is_over_400_lines():
    root = Path(__file__).resolve().parents[2] / "workers" / "quality"
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}


@pytest.mark.parametrize(("data", "schema", "name", "codes"), [
    (b"", None, "d.csv", ["file_empty"]),
    (b"\x1f\x8b\x08\x00rest", None, "d.csv.gz", ["file_compressed"]),
    (b"%PDF-1.4 ...", None, "d.pdf", ["file_not_text"]),
    (b"\xff\xfea\x00,\x00b\x00", None, "d.csv", ["encoding_unsupported"]),
    (b'[{"a": 1}]', None, "d.json", ["json_array"]),
    (b"PAR1 not really parquet", None, "d.parquet", ["parquet_unreadable"]),
    (b"a,b\n", None, "d.csv", ["no_rows"]),
    (b"a,b\n1,2\n1,2,3\n4,5,6\n", None, "d.csv", ["malformed_rows"]),
    (b"a,b\n1,13800138000\n", {"fields": [{"name": "a"}, {"name": "b"}], "personalData": False}, "d.csv",
     ["personal_data_undeclared"]),
    (b"a\n1\n", {"fields": [{"name": "a"}, {"name": "b"}]}, "d.csv", ["missing_declared_columns"]),
    (b"a\n1\n1\n", {"fields": [{"name": "a", "constraints": {"unique": True}}]}, "d.csv", ["constraint_unique"]),
])
def test_every_gate_failure_carries_a_stable_code(tmp_path, data, schema, name, codes):
    # when a file fails the gates
    r = Report.from_dict(run(tmp_path, data, schema, name=name))
    # then each failure is one finding whose code says why (no failure without a code)
    assert r.passed is False
    assert r.gate_codes() == codes
    assert len(r.failures) == len(codes)


def test_warnings_carry_codes_too(tmp_path):
    data = "id,id,x\n1,1,=A1\n2,2,13800138000\n2,2,b\n"
    r = Report.from_dict(run(tmp_path, data, {"fields": [{"name": "id"}, {"name": "x"}, {"name": "y"}],
                                              "primaryKey": "id"}))
    assert r.codes("warning") == ["duplicate_column_names", "primary_key_duplicates",
                                  "personal_data_not_declared", "formula_cells"]
    assert len(r.warnings) == 4


def test_the_compliance_score_follows_the_personal_data_codes(tmp_path):
    data = "a,b\n1,13800138000\n2,x\n"
    scores = {}
    for declared in (True, None, False):
        schema = {"fields": [{"name": "a"}, {"name": "b"}], **({} if declared is None else {"personalData": declared})}
        r = Report.from_dict(run(tmp_path, data, schema))
        scores[declared] = {d.code: d.points for d in r.score_deductions if d.component == "compliance"}
    assert scores[True] == {}
    assert scores[None] == {"personal_data_not_declared": 5.0}
    assert scores[False] == {"personal_data_undeclared": 10.0}
