"""Shared fixtures: services availability, firms and actors, and a real Celery worker.

Tests marked ``services`` need PostgreSQL (as the test database), Redis and real worker
processes. When those are unreachable the tests are skipped with the reason — except
under CI=true, where the run fails at once: CI must exercise the real components.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def services_problem() -> str | None:
    missing = []
    if not settings.POSTGRES_AVAILABLE:
        missing.append(f"PostgreSQL at {settings.TEST_DATABASE_URL}")
    if not settings.REDIS_AVAILABLE:
        missing.append(f"Redis at {settings.TEST_BROKER_URL}")
    return ("unreachable: " + ", ".join(missing)) if missing else None


def _sqlite_flush_past_audit_triggers() -> None:
    """Test isolation on SQLite empties tables with DELETE, which the audit tables' append-only
    triggers refuse (PostgreSQL's TRUNCATE fires none): drop them around the flush, as the owner would."""
    import importlib

    from django.db.backends.sqlite3.base import DatabaseOperations

    triggers = importlib.import_module("exchange.migrations.0006_audit_append_only_sqlite")
    original = DatabaseOperations.sql_flush
    if getattr(original, "_past_audit_triggers", False):
        return

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if "exchange_auditevent" not in tables:
            return statements
        return [f"{sql};" for sql in triggers.SQLITE_DROP] + statements + [f"{sql};" for sql in triggers.SQLITE_CREATE]

    sql_flush._past_audit_triggers = True
    DatabaseOperations.sql_flush = sql_flush


def pytest_configure(config):
    _sqlite_flush_past_audit_triggers()
    problem = services_problem()
    if problem and IN_CI:
        pytest.exit(f"CI=true and the real services are {problem}. Start them (see .ci/run).", returncode=3)


def pytest_collection_modifyitems(config, items):
    problem = services_problem()
    if not problem:
        return
    marker = pytest.mark.skip(reason=f"needs real services, {problem} (CI=true turns this into a failure)")
    for item in items:
        if item.get_closest_marker("services") is not None:
            item.add_marker(marker)


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.1, message: str = "") -> object:
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for: {message or predicate}")
        time.sleep(interval)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: catalog counts, facets and market figures are cached per
    catalog generation, which a test's rolled-back transaction never advances (no on_commit runs)."""
    from django.core.cache import cache

    cache.clear()
    yield


# --- Firms and actors -----------------------------------------------------------
@pytest.fixture
def make_firm(db):
    from exchange.actor import Actor
    from exchange.models import Organization
    from exchange.services.orgs import organization_register
    from exchange.validators import credit_code_check_character

    counter = {"n": 0}

    def _make(name: str = "", *, verified: bool = True, username: str = ""):
        counter["n"] += 1
        n = counter["n"]
        first17 = f"9134010{n:02d}MA2N{n:04d}"[:17].ljust(17, "0")
        org = organization_register(
            actor=Actor.system("test"), name=name or f"Firm {n}", credit_code=first17 + credit_code_check_character(first17),
            city="Hefei", username=username or f"user{n}-{os.getpid()}", email=f"u{n}@example.com",
            password="a-Long-enough-pass-2026",
        )
        if verified:
            Organization.objects.filter(pk=org.pk).update(verification_status=Organization.Status.VERIFIED)
            org.refresh_from_db()
        return org

    return _make


@pytest.fixture
def actor_for():
    """The session actor of a firm's owner."""
    from exchange.actor import Actor

    def _actor(org):
        user = org.memberships.select_related("user").first().user
        return Actor(type="user", user=user, organization=org, origin_ip="127.0.0.1")

    return _actor


@pytest.fixture
def staff_actor(db):
    from django.contrib.auth import get_user_model

    from exchange.actor import Actor

    user = get_user_model().objects.create_user("staff-reviewer", "staff@example.com", "x-staff-pass-2026", is_staff=True, is_superuser=True)
    return Actor(type="staff", user=user, origin_ip="127.0.0.1")


# --- A real Celery worker --------------------------------------------------------
class WorkerProcess:
    """A ``celery worker`` subprocess consuming from the test broker and test database."""

    def __init__(self, env: dict[str, str], queues: str, concurrency: int, log: Path, extra_args: tuple[str, ...] = ()):
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "-Q", queues, "--concurrency", str(concurrency),
             "--pool", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h", *extra_args],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_until(lambda: b"ready." in log.read_bytes() or self.proc.poll() is not None, timeout=60,
                   message="celery worker to start")
        if self.proc.poll() is not None:
            pytest.fail(f"worker exited at start:\n{log.read_text(errors='replace')}")

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def worker_env(**overrides: str) -> dict[str, str]:
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "TEST_DATABASE_NAME": db["NAME"],
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_KEYPREFIX": settings.CELERY_KEYPREFIX,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides)
    return env


@pytest.fixture
def purge_broker():
    """Empty the test broker's queues so a test sees only its own tasks."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in client.scan_iter(match=f"{settings.CELERY_KEYPREFIX}*", count=500):
        client.delete(key)
    yield


@pytest.fixture
def celery_worker_process(transactional_db, purge_broker, tmp_path):
    """Start real worker processes on demand; all are stopped at teardown."""
    started: list[WorkerProcess] = []

    def _start(*, queues: str = "default,quality,delivery", concurrency: int = 1, beat: bool = False,
               **env: str) -> WorkerProcess:
        """``beat=True`` also runs the beat scheduler in the worker (``-B``), as the embedded default does."""
        n = len(started)
        extra = ("-B", "--schedule", str(tmp_path / f"beat{n}-schedule")) if beat else ()
        worker = WorkerProcess(worker_env(**env), queues, concurrency, tmp_path / f"worker{n}.log", extra)
        started.append(worker)
        return worker

    yield _start
    for worker in started:
        worker.stop()


# --- Object storage: a real S3-compatible server (moto in server mode) on loopback ---------
class S3Server:
    """A ``moto.server`` subprocess on 127.0.0.1; each test gets its own bucket."""

    region = "us-east-1"
    access_key = "testing-access-key"
    secret_key = "testing-secret-key"

    def __init__(self, log: Path):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._answers, timeout=60, message=f"moto server on {self.endpoint}; log:\n{log}")

    def _answers(self) -> bool:
        import urllib.request

        if self.proc.poll() is not None:
            pytest.fail(f"moto server exited with {self.proc.returncode}")
        try:
            with urllib.request.urlopen(self.endpoint + "/", timeout=1):
                return True
        except OSError:
            return False

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)

    def new_bucket(self) -> str:
        import uuid

        bucket = f"shujiao-test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def env(self, bucket: str) -> dict[str, str]:
        """The settings a process needs to use this bucket (the README's AWS_* variables)."""
        return {"STORAGE_BACKEND": "s3", "AWS_STORAGE_BUCKET_NAME": bucket, "AWS_S3_ENDPOINT_URL": self.endpoint,
                "AWS_S3_REGION_NAME": self.region, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_S3_ADDRESSING_STYLE": "path"}

    def storage_setting(self, bucket: str) -> dict:
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": self.endpoint, "region_name": self.region,
            "access_key": self.access_key, "secret_key": self.secret_key, "addressing_style": "path",
            "default_acl": "private", "querystring_auth": True, "file_overwrite": False}}

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings, tmp_path):
    """STORAGES["default"] is S3Storage on a fresh bucket of the loopback moto server, and this
    (web) process's MEDIA_ROOT is a directory that must stay absent: any code that assumes a
    local disk for stored files fails. Yields (server, bucket)."""
    bucket = s3_server.new_bucket()
    web_media = tmp_path / "web-media-must-stay-empty"
    settings.MEDIA_ROOT = web_media
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_setting(bucket)}
    yield s3_server, bucket
    assert not web_media.exists(), f"something wrote under the web process's MEDIA_ROOT: {list(web_media.rglob('*'))}"


@pytest.fixture(params=["local", "s3"])
def storage_backend(request):
    """Run a test once on local storage and once on S3 (moto server); yields the backend name."""
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    yield request.param


# --- The web app as a real server process on loopback ------------------------------------
class WebServer:
    """``gunicorn marketplace.wsgi`` on 127.0.0.1 against the test database (data must be committed:
    use it with ``transactional_db``). A process of its own, so a client in the test runs in parallel."""

    def __init__(self, env: dict[str, str], log: Path):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "marketplace.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--threads", "4", "--timeout", "120",
             # no request-line limit: gunicorn's own 414 (a plain-text page, before Django) is the HTTP
             # server's answer, not the API's; the API answers long query strings itself
             "--limit-request-line", "0"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._answers, timeout=60, message=f"gunicorn on port {self.port} to answer")

    def _answers(self) -> bool:
        import urllib.error
        import urllib.request

        if self.proc.poll() is not None:
            pytest.fail(f"gunicorn exited at start:\n{self.log_path.read_text(errors='replace')}")
        try:
            urllib.request.urlopen(f"{self.url}/api/v1/market/stats/", timeout=2)  # noqa: S310 — loopback
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def web_server(transactional_db, tmp_path):
    """Start the app as a server process on demand (``web_server(**env)``); stopped at teardown."""
    started: list[WebServer] = []

    def _start(**env: str) -> WebServer:
        server = WebServer(worker_env(**env), tmp_path / f"gunicorn{len(started)}.log")
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()
