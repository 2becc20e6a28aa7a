"""The embedded default `make demo` relies on: SQLite, the filesystem broker, a real worker."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, WorkerProcess, wait_until

pytestmark = pytest.mark.timeout(300)

UPLOAD = """
from django.core.files.uploadedfile import SimpleUploadedFile
from exchange.actor import Actor
from exchange.models import Dataset, Membership
from exchange.services import catalog
m = Membership.objects.get(user__username="wuhan")
actor = Actor(type="user", user=m.user, organization=m.organization)
ds = Dataset.objects.get(owner=m.organization)
body = b"serial_no,product,station,tested_at,tx_power_dbm,rx_sensitivity_dbm,extinction_ratio_db,case_temp_c,result\\n" + b"".join(
    f"X{i},100G,FT-01,2026-11-01T08:00:00Z,1.5,-12.1,5.0,40.0,PASS\\n".encode() for i in range(50))
v = catalog.version_upload(actor=actor, dataset=ds, upload=SimpleUploadedFile("more.csv", body), changelog="more rows")
print(v.pk)
"""


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "MEDIA_ROOT")}
    env.update({"DJANGO_SETTINGS_MODULE": "marketplace.settings.local", "SHUJIAO_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"})
    return env


def _manage(env, *args) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_embedded_default_seeds_idempotently_and_a_real_worker_checks_uploads(tmp_path):
    env = _env(tmp_path / "var")
    _manage(env, "migrate", "--noinput", "-v0")
    first = _manage(env, "seed_demo")
    assert first.count("— published") == 3 and "buyer" in first
    second = _manage(env, "seed_demo")  # idempotent: nothing new, nothing broken
    assert second.count("— published") == 3
    counts = _manage(env, "shell", "--no-imports", "-c", "from exchange.models import *; print(Organization.objects.count(), Dataset.objects.count(), DatasetVersion.objects.count(), Listing.objects.count())")
    # 4 firms; 4 datasets and 4 listings (Hangzhou's derived copy of the speech data beside the 3 originals);
    # 5 versions (the speech listing carries a second one as a revision)
    assert counts.split() == ["4", "4", "5", "4"]
    assert (tmp_path / "var" / "shujiao.sqlite3").exists()

    worker = WorkerProcess(env, "default,quality,delivery", 1, tmp_path / "worker.log")
    try:
        version_id = _manage(env, "shell", "--no-imports", "-c", UPLOAD).strip().splitlines()[-1]
        db = tmp_path / "var" / "shujiao.sqlite3"

        def status() -> str:
            with sqlite3.connect(db) as conn:
                row = conn.execute("SELECT status FROM exchange_datasetversion WHERE id = ?", [version_id.replace("-", "")]).fetchone()
            return row[0] if row else ""

        wait_until(lambda: status() == "passed", timeout=90, interval=0.3,
                   message=f"the embedded worker to check the upload; log:\n{worker.output()[-3000:]}")
        assert "filesystem" in worker.output()
    finally:
        worker.stop()
    assert "Audit chain intact" in _manage(env, "verify_audit")


def test_embedded_sqlite_audit_is_append_only_and_truncation_is_reported(tmp_path):
    env = _env(tmp_path / "var")
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo")
    assert "Audit chain intact" in _manage(env, "verify_audit")
    db = sqlite3.connect(tmp_path / "var" / "shujiao.sqlite3")
    try:
        (events,) = db.execute("SELECT COUNT(*) FROM exchange_auditevent").fetchone()
        assert events > 2
        for sql in ("UPDATE exchange_auditevent SET action = 'forged'", "DELETE FROM exchange_auditevent WHERE seq > 2",
                    "DELETE FROM exchange_auditchainhead", "UPDATE exchange_auditchainhead SET seq = 1"):
            with pytest.raises(sqlite3.IntegrityError):  # RAISE(ABORT, …) from the migration's triggers
                db.execute(sql)
        # An attacker with the file drops the triggers and deletes the newest events.
        db.executescript("DROP TRIGGER exchange_auditevent_no_delete; DELETE FROM exchange_auditevent WHERE seq > 2;")
    finally:
        db.close()
    result = subprocess.run([sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode != 0
    assert f"truncated: chain has 2 events, head says {events}" in result.stderr
