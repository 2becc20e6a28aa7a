"""Delta Sharing fixtures: the official client in its own virtual environment, a buyer's
ready delivery, and a way to run the client against the live server.

The client (``delta-sharing`` 1.4.2) pins ``pyarrow<=23.0.1`` and ``pandas<3``, which the
exchange's environment cannot hold, so a session fixture builds ``var/venv-delta-sharing``
from ``requirements-delta-sharing.txt`` (``python3.11 -m venv`` + ``pip install``) the
first time, and reuses it while that file is unchanged (a stamp holds the file's hash).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.delivery.conftest import build_now, paid_contract, ready_delivery, signing_key  # noqa: F401

VENV = ROOT / "var" / "venv-delta-sharing"
REQUIREMENTS = ROOT / "requirements-delta-sharing.txt"
SCRIPT = Path(__file__).with_name("client_script.py")


def _python311() -> str:
    found = shutil.which("python3.11")
    if found:
        return found
    if sys.version_info[:2] == (3, 11):
        return getattr(sys, "_base_executable", sys.executable)
    pytest.fail("python3.11 is needed to build the delta-sharing client's environment (apt-get install python3.11)")


@pytest.fixture(scope="session")
def delta_sharing_python() -> Path:
    """The interpreter of var/venv-delta-sharing, built once (cached between runs)."""
    import fcntl

    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV / ".requirements-sha256"
    python = VENV / "bin" / "python"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / ".venv-delta-sharing.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test sessions never build it at once
        if not (python.exists() and stamp.exists() and stamp.read_text().strip() == digest):
            _build(python, stamp, digest)
    return python


def _build(python: Path, stamp: Path, digest: str) -> None:
    if VENV.exists():
        shutil.rmtree(VENV)
    subprocess.run([_python311(), "-m", "venv", str(VENV)], check=True, timeout=300)
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                             capture_output=True, text=True, timeout=900)
    if install.returncode != 0:
        pytest.fail(f"pip install -r {REQUIREMENTS.name} failed:\n{install.stdout[-2000:]}\n{install.stderr[-4000:]}")
    stamp.write_text(digest)


@pytest.fixture
def run_client(delta_sharing_python, tmp_path):
    """Run the official client in a subprocess: ``run_client("load", profile_body, "s.s.t")``."""
    counter = {"n": 0}

    def _run(command: str, profile: dict, table: str = "") -> dict:
        counter["n"] += 1
        path = tmp_path / f"profile{counter['n']}.share"
        path.write_text(json.dumps(profile))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTHON"))}
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        args = [str(delta_sharing_python), str(SCRIPT), command, str(path), *([table] if table else [])]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
        assert done.returncode == 0, f"client failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    return _run


@pytest.fixture
def issue_profile(actor_for):
    """A profile for the buyer of ``delivery`` pointing at ``endpoint``."""
    from exchange.services import sharing

    def _issue(delivery, endpoint: str):
        return sharing.profile_issue(actor=actor_for(delivery.contract.buyer), delivery_id=delivery.pk,
                                     endpoint=endpoint)

    return _issue
