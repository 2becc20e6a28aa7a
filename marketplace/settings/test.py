"""Tests: PostgreSQL and Redis when reachable (CI requires them), fast hashing, eager nothing.

The database is DATABASE_URL (default: the local PostgreSQL database ``test`` as user
``postgres``). When it does not answer, tests fall back to SQLite and every test marked
``services`` is skipped with the reason — except under CI=true, where tests/conftest.py
fails the run instead.
"""

import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from .base import *  # noqa: F401,F403
from .base import _default_storage, env

SECRET_KEY = "test-secret-key-not-for-production"
DEBUG = False
DEMO_MODE = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

TEST_DATABASE_URL = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/test")
TEST_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


POSTGRES_AVAILABLE = TEST_DATABASE_URL.startswith("postgres") and _answers(TEST_DATABASE_URL, 5432)
REDIS_AVAILABLE = _answers(TEST_BROKER_URL, 6379)

_tmp = Path(tempfile.mkdtemp(prefix="shujiao-test-"))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(_tmp / "media")))
if POSTGRES_AVAILABLE:
    DATABASES = {"default": env.db_url_config(TEST_DATABASE_URL)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_tmp / "test.sqlite3")}}
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_shujiao")}

STATIC_ROOT = _tmp / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    # STORAGE_BACKEND=s3 (worker subprocesses of the S3 tests) keeps base's S3Storage.
    "default": _default_storage if STORAGE_BACKEND == "s3" else {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_BROKER_URL = TEST_BROKER_URL
# Every test run gets its own key prefix on the shared Redis, so concurrent runs (and the
# queues they purge) never touch each other's tasks; worker subprocesses inherit it.
CELERY_KEYPREFIX = env.str("CELERY_KEYPREFIX", default=f"shujiao-test-{os.getpid()}:")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 7200, "global_keyprefix": CELERY_KEYPREFIX}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {  # noqa: F405
    "anon": "10000/min", "user": "10000/min", "api_key": "10000/min", "firm": "10000/min",
    "key_bootstrap": env.str("THROTTLE_KEY_BOOTSTRAP", default="10000/min"),
    "signup": env.str("THROTTLE_SIGNUP", default="10000/min")}}  # noqa: F405

# --- Delivery ---
SIGNING_KEY_PASSPHRASE = env.str("SIGNING_KEY_PASSPHRASE", default="test-signing-key-passphrase")
FINGERPRINT_SECRET = env.str("FINGERPRINT_SECRET", default="test-fingerprint-secret-not-for-production")

# --- Webhooks: tests post to receivers on loopback ---
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=True)
