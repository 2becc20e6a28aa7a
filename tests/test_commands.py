import json
import subprocess
import sys

from tests.conftest import ROOT
from tests.factories import SCHEMA, csv_bytes


def _manage(*args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_check_quality_command_exit_codes(tmp_path):
    good, schema = tmp_path / "reviews.csv", tmp_path / "schema.json"
    good.write_bytes(csv_bytes())
    schema.write_text(json.dumps(SCHEMA))
    ok = _manage("check_quality", str(good), "--schema", str(schema), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rows"] == 20
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    failed = _manage("check_quality", str(empty))
    assert failed.returncode == 1 and "empty" in (failed.stdout + failed.stderr).lower()
    assert _manage("check_quality", str(tmp_path / "missing.csv")).returncode == 2


def test_verify_delivery_command_usage_error(tmp_path):
    result = _manage("verify_delivery", str(tmp_path / "nope.zip"))
    assert result.returncode == 2
