"""docs/api.md's walk-through is run as written: its ``sh`` blocks, in order, in one bash.

The server is the app under gunicorn on loopback with a real Celery worker (quality check,
delivery build); this test plays the exchange's staff, who verify the two firms and review
the listing while the script waits for them, as it would on a real exchange.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.services, pytest.mark.timeout(600)]

DOC = ROOT / "docs" / "api.md"


def walkthrough_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Walk-through", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.S | re.M)


def test_the_walkthrough_has_the_whole_flow():
    script = "\n".join(walkthrough_blocks())
    for step in ("/api/v1/auth/signup/", "/api/v1/auth/keys/", "/versions/", "/submit/", "/access-requests/",
                 "/links/", "-o package.zip"):
        assert step in script, f"the walk-through lost its {step} step"


def _act_as_staff(staff_actor) -> None:
    """What the exchange's officers do on the admin: verify pending firms, publish listings in review."""
    from exchange.models import Listing, Organization
    from exchange.services.catalog import listing_review
    from exchange.services.orgs import organization_review

    for org in Organization.objects.filter(verification_status=Organization.Status.PENDING):
        organization_review(actor=staff_actor, organization=org, approve=True)
    for listing in Listing.objects.filter(status=Listing.Status.IN_REVIEW):
        listing_review(actor=staff_actor, listing=listing, approve=True)


def test_the_documented_commands_take_a_firm_from_sign_up_to_download(
        web_server, celery_worker_process, staff_actor, tmp_path: Path):
    from exchange.actor import Actor
    from exchange.models import Delivery, Organization
    from exchange.services.signing import signing_key_ensure

    signing_key_ensure(actor=Actor.system("test"))
    celery_worker_process(queues="default,quality,delivery")
    server = web_server()
    script = "set -euo pipefail\n" + "\n".join(walkthrough_blocks())
    log = tmp_path / "walkthrough.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "-c", script], cwd=tmp_path, env={
            "BASE": server.url, "PATH": os.environ["PATH"], "HOME": str(tmp_path)},
            stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while proc.poll() is None:
            _act_as_staff(staff_actor)
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the walk-through did not finish in 300 s:\n{log.read_text(errors='replace')}")
            try:
                proc.wait(timeout=0.5)  # the script's end is the condition waited for
            except subprocess.TimeoutExpired:
                pass
    output = log.read_text(errors="replace")

    assert proc.returncode == 0, f"the walk-through failed:\n{output}\n--- server log ---\n" \
                                 f"{server.log_path.read_text(errors='replace')[-4000:]}"
    assert "quality check: passed" in output
    assert Organization.objects.filter(verification_status="verified").count() == 2
    delivery = Delivery.objects.get()
    assert delivery.status == "ready" and delivery.downloads_used == 1
    with zipfile.ZipFile(tmp_path / "package.zip") as package:
        names = package.namelist()
    assert "manifest.json" in names and any(n.endswith(".csv") for n in names), names
