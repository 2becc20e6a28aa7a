"""Ctrl-C of ``serve_demo`` (the embedded default) stops web, worker and beat: no orphans."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request

import psutil
import pytest

from exchange.management.commands.serve_demo import WORKER_NICE
from tests.conftest import ROOT, wait_until
from tests.integration.test_embedded_default import _env, _manage

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def test_sigint_stops_web_worker_and_beat_with_no_orphan(tmp_path):
    env = _env(tmp_path / "var")
    _manage(env, "migrate", "--noinput", "-v0")
    port = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "manage.py", "serve_demo", "--addr", f"127.0.0.1:{port}"], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/") and b"ready." in log.read_bytes()
                   and b"beat: Starting" in log.read_bytes(), timeout=120, interval=0.3,
                   message=f"web, worker and beat to start; log:\n{log}")
        family = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        # web (gunicorn's arbiter and its one threaded worker), worker, its pool, beat
        assert "gunicorn" in names and "--threads" in names and "celery" in names and len(family) >= 5
        # the worker (and its pool and beat) yields the CPU to the web server's requests
        web_nice = {p.nice() for p in family if "gunicorn" in " ".join(p.cmdline())}
        worker_nice = {p.nice() for p in family if "celery" in " ".join(p.cmdline())}
        assert web_nice == {os.nice(0)} and worker_nice == {os.nice(0) + WORKER_NICE}, (web_nice, worker_nice)

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: SIGINT to the terminal's whole process group
        proc.wait(timeout=40)
        gone, alive = psutil.wait_procs(family, timeout=5)
        assert alive == [], f"orphans after Ctrl-C: {[(p.pid, p.cmdline()) for p in alive]}"
        assert b"Stopped." in log.read_bytes()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for p in psutil.Process().children(recursive=True):
            if "serve_demo" in " ".join(p.cmdline()) or f"127.0.0.1:{port}" in " ".join(p.cmdline()):
                p.kill()


def test_sigint_during_a_running_check_ends_it_within_the_deadline_with_no_orphan(tmp_path):
    """A check that cannot finish (its file is a FIFO nobody writes) is given --warm-seconds,
    then cancelled; every process of the family is gone within the deadline."""
    import sqlite3

    from tests.integration.test_embedded_default import UPLOAD

    env = _env(tmp_path / "var")
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo")
    version_id = _manage(env, "shell", "--no-imports", "-c", UPLOAD).strip().splitlines()[-1]
    db = tmp_path / "var" / "shujiao.sqlite3"
    with sqlite3.connect(db) as conn:
        name = conn.execute("SELECT file FROM exchange_datasetversion WHERE id = ?",
                            [version_id.replace("-", "")]).fetchone()[0]
    stored = tmp_path / "var" / "media" / name
    stored.unlink()
    os.mkfifo(stored)  # the check blocks opening it

    def status() -> str:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT status FROM exchange_datasetversion WHERE id = ?",
                                [version_id.replace("-", "")]).fetchone()[0]

    port = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "manage.py", "serve_demo", "--addr", f"127.0.0.1:{port}",
                                 "--warm-seconds", "3"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_until(lambda: status() == "checking", timeout=120, interval=0.3,
                   message=f"the worker to start the check; log:\n{log}")
        family = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=40)
        _gone, alive = psutil.wait_procs(family, timeout=5)
        assert alive == [], f"orphans after Ctrl-C: {[(p.pid, p.cmdline()) for p in alive]}"
        assert b"Stopped." in log.read_bytes()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for p in psutil.Process().children(recursive=True):
            if "serve_demo" in " ".join(p.cmdline()) or "celery" in " ".join(p.cmdline()):
                p.kill()
