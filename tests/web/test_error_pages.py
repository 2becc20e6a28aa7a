"""Error pages for people: bilingual, in the site's layout, also in the demo (DEBUG off there)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

from exchange.web.views import server_error

ROOT = Path(__file__).resolve().parents[2]


def test_404_is_the_sites_bilingual_page(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not found" in body and "页面不存在" in body and 'class="topbar"' in body
    assert "URLconf" not in body


def test_500_page_renders_without_the_database():
    response = server_error(RequestFactory().get("/boom"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body and "服务器出错" in body and "shujiao.css" in body


def test_the_demo_settings_show_the_sites_404_and_serve_static_without_collectstatic(tmp_path):
    """What ``serve_demo`` runs: local settings with DEBUG off (its web child's environment)."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "r = c.get('/no-such-page/'); print(r.status_code, '页面不存在' in r.content.decode(), 'URLconf' in r.content.decode())\n"
        "s = c.get('/static/exchange/shujiao.css'); print(s.status_code)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings.local", "DJANGO_DEBUG": "False",
           "DJANGO_ALLOWED_HOSTS": "testserver", "SHUJIAO_VAR_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["404", "True", "False", "200"], out.stdout + out.stderr[-2000:]


def test_serve_demo_runs_its_web_server_with_debug_off(monkeypatch, settings, tmp_path):
    """The command's children are recorded, not started: the web child's environment has DEBUG off."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    started = []

    class FakeProcess:
        pid = -1

        def __init__(self, args, env=None, **kwargs):
            started.append((args, env))

        def poll(self):
            return 0  # exited at once: the command stops

        def wait(self, timeout=None):
            return 0

        def send_signal(self, sig):
            raise AssertionError("an exited child gets no signal")

    settings.BROKER_DIR = tmp_path / "broker"
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    monkeypatch.setattr("subprocess.Popen", FakeProcess)
    monkeypatch.setattr("os.killpg", lambda pid, sig: None)

    call_command("serve_demo", warm_seconds=0)

    web = [(args, env) for args, env in started if "marketplace.wsgi:application" in args]
    assert len(web) == 1 and web[0][1]["DJANGO_DEBUG"] == "False"
    # one gunicorn process with a bounded pool of threads (SQLite's writer is not starved of the GIL)
    args = web[0][0]
    assert args[1:3] == ["-m", "gunicorn"]
    assert args[args.index("--workers") + 1] == "1" and args[args.index("--worker-class") + 1] == "gthread"
    assert args[args.index("--threads") + 1] == "6"

    started.clear()
    call_command("serve_demo", warm_seconds=0, threads=3)
    args = next(args for args, _env in started if "marketplace.wsgi:application" in args)
    assert args[args.index("--threads") + 1] == "3"

    started.clear()
    with pytest.raises(CommandError, match="at least 1"):
        call_command("serve_demo", warm_seconds=0, threads=0)
    assert started == []  # refused before anything starts

    call_command("serve_demo", warm_seconds=0, server="runserver")
    assert any("runserver" in args and "--noreload" in args for args, _env in started)


def test_serve_demo_prints_the_logins_after_the_worker_banner(monkeypatch, settings, tmp_path):
    """The worker's banner and 'ready.' line come first; the logins are the last thing printed."""
    import io

    from django.core.management import call_command

    from exchange import demo

    class FakeProcess:
        pid = -1

        def __init__(self, args, env=None, stdout=None, **kwargs):
            self.is_worker = "celery" in args
            self.stdout = io.BytesIO(b" -------------- demo@host v5 (banner)\n[tasks]\n  . shujiao.quality\n"
                                     b"[INFO/MainProcess] demo@host ready.\n") if self.is_worker else None
            self.polls = 0

        def poll(self):
            if self.is_worker:
                return None
            self.polls += 1
            return None if self.polls < 3 else 0  # the web child runs a moment, then exits

        def wait(self, timeout=None):
            return 0

        def send_signal(self, sig):
            pass

    settings.BROKER_DIR = tmp_path / "broker"
    monkeypatch.setattr("subprocess.Popen", FakeProcess)
    monkeypatch.setattr("os.killpg", lambda pid, sig: None)
    monkeypatch.setattr("exchange.management.commands.serve_demo.port_open", lambda addr: True)
    out = io.StringIO()

    call_command("serve_demo", warm_seconds=0, stdout=out)

    text = out.getvalue()
    assert text.index("demo@host ready.") < text.index("staff login:") < text.index("firm logins:")
    before_stopping = text.split("Stopping:")[0].rstrip().splitlines()
    assert f"password {demo.DEMO_PASSWORD}" in before_stopping[-1]  # the last line while it runs
