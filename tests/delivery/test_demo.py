"""`make demo`'s story: seed_demo buys the Wuhan dataset for the demo buyer, and the embedded
real worker (SQLite, filesystem broker) builds a delivery that verifies."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from exchange import demo
from tests.conftest import ROOT, WorkerProcess, wait_until
from tests.integration.test_embedded_default import _env, _manage

pytestmark = pytest.mark.timeout(300)

EXPORT = """
import json
from django.core.files.storage import default_storage
from exchange.models import Delivery
from exchange.services.signing import signing_keys_jwks
d = Delivery.objects.select_related("contract__buyer", "contract__seller").get(contract__seller__credit_code="{wuhan}")
with default_storage.open(d.package_name, "rb") as f, open("{out}/package.zip", "wb") as out:
    out.write(f.read())
open("{out}/keys.json", "w").write(json.dumps(signing_keys_jwks()))
print(d.status, d.contract.status, d.contract.buyer.credit_code, d.contract.seller.credit_code)
"""

AFTER_SALES = """
from exchange.models import Contract, Dispute
print(Contract.objects.filter(status="settled", release="accepted").count(),
      Dispute.objects.filter(status="open").count(), Dispute.objects.count())
"""


def test_seeded_purchase_is_built_by_the_embedded_worker_and_verifies(tmp_path):
    env = _env(tmp_path / "var")
    _manage(env, "migrate", "--noinput", "-v0")
    out = _manage(env, "seed_demo")
    assert "demo purchase:" in out and "delivery queued" in out
    again = _manage(env, "seed_demo")  # idempotent: no second purchase
    assert "delivery queued" in again or "delivery ready" in again
    # after-sales examples: one contract settled after acceptance, one open dispute in the admin queue
    assert "after-sales (accepted): " in out and "contract settled" in out
    assert "after-sales (disputed): " in out and "contract disputed (escrow held)" in out
    after_sales = _manage(env, "shell", "--no-imports", "-c", AFTER_SALES).split()
    assert after_sales == ["1", "1", "1"]
    db = tmp_path / "var" / "shujiao.sqlite3"

    codes = {f.username: f.credit_code for f in demo.FIRMS}

    def status() -> str:
        """The demo purchase's delivery (the after-sales examples are built by seed_demo itself)."""
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT d.status FROM exchange_delivery d JOIN exchange_contract c ON c.id = d.contract_id "
                                "JOIN exchange_organization o ON o.id = c.seller_id WHERE o.credit_code = ?",
                                (codes["wuhan"],)).fetchall()
        return ",".join(r[0] for r in rows)

    assert status() == "queued"
    worker = WorkerProcess(env, "default,quality,delivery", 1, tmp_path / "worker.log")
    try:
        wait_until(lambda: status() == "ready", timeout=120, interval=0.3, message="the worker to build the demo delivery")
    finally:
        worker.stop()
    exported = _manage(env, "shell", "--no-imports", "-c", EXPORT.format(out=tmp_path, wuhan=codes["wuhan"])).split()
    # the demo offer keeps the default 3-day acceptance window: the buyer accepts (or it ends) later
    assert exported == ["ready", "delivered", codes["buyer"], codes["wuhan"]]
    verify = subprocess.run([sys.executable, "manage.py", "verify_delivery", str(tmp_path / "package.zip"),
                             "--keys", str(tmp_path / "keys.json")], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Audit chain intact" in _manage(env, "verify_audit")
