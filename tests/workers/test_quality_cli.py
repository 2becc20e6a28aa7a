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


def test_declared_dialect_from_the_command_line(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("1;a,b\n2;c,d\n3;e,f\n")
    d = tmp_path / "dialect.json"
    d.write_text(json.dumps({"delimiter": ";", "header": False}))
    assert main([str(f), "--dialect", str(d), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["header"] == ["column_1", "column_2"] and report["rows"] == 3
    assert report["dialect"]["declared"] == {"delimiter": ";", "header": False}


def test_invalid_dialect_is_a_usage_error_naming_the_property(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("id\n1\n")
    d = tmp_path / "dialect.json"
    d.write_text(json.dumps({"delimitr": ";"}))
    assert main([str(f), "--dialect", str(d)]) == 2
    assert "dialect.delimitr: unsupported property" in capsys.readouterr().err


def test_summary_says_how_a_legacy_encoding_was_read(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_bytes("id,name\n1,José\n2,Zoë\n".encode("cp1252"))
    assert main([str(f)]) == 0
    out = capsys.readouterr().out
    assert "encoding: windows-1252" in out and "read: read as Windows-1252" in out
