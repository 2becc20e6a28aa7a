import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    full.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)


def test_production_settings_pass_deploy_checks():
    result = _run(["check", "--deploy", "--fail-level", "WARNING"],
                  DJANGO_SETTINGS_MODULE="marketplace.settings.production",
                  DJANGO_SECRET_KEY="k" * 30 + "-a-long-random-production-secret-9f8e7d6c5b4a",
                  DJANGO_ALLOWED_HOSTS="shujiao.example.com", DATABASE_URL="postgres://postgres@127.0.0.1:5432/test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_secret():
    result = _run(["check"], DJANGO_SETTINGS_MODULE="marketplace.settings.production", DJANGO_ALLOWED_HOSTS="x.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


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
