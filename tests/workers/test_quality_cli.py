"""The check_quality command line entry (main(argv) -> exit status)."""

from __future__ import annotations

import json

from workers.quality.cli import main


def test_clean_file_exits_zero_with_summary(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("id,name\n1,a\n2,b\n")
    assert main([str(f)]) == 0
    out = capsys.readouterr().out
    assert "rows: 2" in out and "gates: passed" in out


def test_json_output(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("id,name\n1,a\n1,a\n")
    assert main([str(f), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["duplicate_rows"] == 1


def test_bad_file_exits_one_with_message(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert main([str(f)]) == 1
    assert "file is gzip-compressed" in capsys.readouterr().out


def test_schema_gate_failure_exits_one(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("id\n1\n")
    s = tmp_path / "s.json"
    s.write_text(json.dumps({"fields": [{"name": "id"}, {"name": "x"}]}))
    assert main([str(f), "--schema", str(s)]) == 1
    assert "missing declared columns: x" in capsys.readouterr().out


def test_usage_errors_exit_two(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("id\n1\n")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"fields": [{"name": "id", "type": "integr"}]}))
    assert main([str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main([str(f), "--schema", str(bad_json)]) == 2
    assert "cannot read schema" in capsys.readouterr().err
    assert main([str(f), "--schema", str(invalid)]) == 2
    assert "fields[0].type: 'integr' is not a Table Schema type" in capsys.readouterr().err
    assert main([]) == 2
