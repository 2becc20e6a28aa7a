import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


_PROD_VARS = ("DJANGO_", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SIGNING_KEY_PASSPHRASE",
             "FINGERPRINT_SECRET", "PUBLIC_BASE_URL")
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "marketplace.settings.production",
    "DJANGO_SECRET_KEY": "k" * 30 + "-a-long-random-production-secret-9f8e7d6c5b4a",
    "DJANGO_ALLOWED_HOSTS": "shujiao.example.com", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "REDIS_URL": "redis://127.0.0.1:6379/1",
    "SIGNING_KEY_PASSPHRASE": "a-production-signing-passphrase",
    "FINGERPRINT_SECRET": "f" * 16 + "-a-production-fingerprint-secret",
    "PUBLIC_BASE_URL": "https://shujiao.example.com",
}


def _run(args, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith(_PROD_VARS)}
    full.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)


def test_production_settings_pass_deploy_checks():
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL",
                                     "PUBLIC_BASE_URL"])
@pytest.mark.parametrize("value", [None, "  "])
def test_production_settings_refuse_to_start_without_each_variable(missing, value):
    env = dict(PRODUCTION_ENV)
    if value is None:
        del env[missing]
    else:
        env[missing] = value
    result = _run(["check"], **env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_settings_refuse_a_plain_http_public_base_url():
    result = _run(["check"], **{**PRODUCTION_ENV, "PUBLIC_BASE_URL": "http://localhost:8000"})
    assert result.returncode != 0
    assert "PUBLIC_BASE_URL must be an https:// address in production" in result.stderr


@pytest.mark.parametrize("passphrase_file", [None, "empty"])
def test_production_settings_refuse_to_start_without_a_signing_passphrase(passphrase_file, tmp_path):
    env = dict(PRODUCTION_ENV)
    del env["SIGNING_KEY_PASSPHRASE"]
    if passphrase_file:
        (tmp_path / "pass").write_text("\n")
        env["SIGNING_KEY_PASSPHRASE_FILE"] = str(tmp_path / "pass")
    result = _run(["check"], **env)
    assert result.returncode != 0
    assert "Set SIGNING_KEY_PASSPHRASE or SIGNING_KEY_PASSPHRASE_FILE" in result.stderr


@pytest.mark.parametrize("value", [None, "too-short"])
def test_production_settings_refuse_to_start_without_a_fingerprint_secret(value, tmp_path):
    env = dict(PRODUCTION_ENV)
    del env["FINGERPRINT_SECRET"]
    if value is not None:
        env["FINGERPRINT_SECRET"] = value
    result = _run(["check"], **env)
    assert result.returncode != 0
    assert "Set FINGERPRINT_SECRET or FINGERPRINT_SECRET_FILE to at least 32 random characters" in result.stderr


def test_production_settings_accept_a_fingerprint_secret_file(tmp_path):
    env = dict(PRODUCTION_ENV)
    del env["FINGERPRINT_SECRET"]
    (tmp_path / "fp").write_text("x" * 40 + "\n")
    result = _run(["check"], **env, FINGERPRINT_SECRET_FILE=str(tmp_path / "fp"))
    assert result.returncode == 0, result.stderr


def test_production_settings_accept_a_passphrase_file(tmp_path):
    env = dict(PRODUCTION_ENV)
    del env["SIGNING_KEY_PASSPHRASE"]
    (tmp_path / "pass").write_text("from-a-mounted-secret\n")
    result = _run(["check"], **env, SIGNING_KEY_PASSPHRASE_FILE=str(tmp_path / "pass"))
    assert result.returncode == 0, result.stderr


def test_celery_reliability_settings():
    from django.conf import settings

    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_ACCEPT_CONTENT == ["json"] and settings.CELERY_TASK_SERIALIZER == "json"
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
    assert settings.PASSWORD_HASHERS != [] and "Argon2" in _base_hashers()[0]


def _base_hashers():
    from marketplace.settings import base

    return base.PASSWORD_HASHERS


def test_task_routes_use_separate_queues():
    import workers.tasks  # noqa: F401 — registers the tasks
    from marketplace.celery import app

    assert app.amqp.router.route({}, "shujiao.quality.check_version")["queue"].name == "quality"
    assert app.amqp.router.route({}, "shujiao.delivery.build")["queue"].name == "delivery"


def test_private_webhook_targets_are_off_in_production_even_when_the_environment_asks():
    code = "from django.conf import settings; print(settings.WEBHOOK_ALLOW_PRIVATE, settings.WEBHOOK_TIMEOUT_SECONDS)"
    production = _run(["shell", "-c", code], **PRODUCTION_ENV, WEBHOOK_ALLOW_PRIVATE="true")
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip().splitlines()[-1].split() == ["False", "15.0"]
    local = _run(["shell", "-c", code], DJANGO_SETTINGS_MODULE="marketplace.settings.local")
    assert local.stdout.strip().splitlines()[-1].split() == ["True", "15.0"]
