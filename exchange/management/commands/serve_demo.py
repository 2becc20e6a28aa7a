"""Serve the demo: the web server on 127.0.0.1:8000 and a real Celery worker (with beat).

Both run as child processes; Ctrl-C (or SIGTERM) stops both. Used by ``make demo``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from exchange import demo


class Command(BaseCommand):
    help = "Run the web server and a Celery worker together until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("SHUJIAO_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args, addr: str, concurrency: int, **options):
        settings.BROKER_DIR.mkdir(parents=True, exist_ok=True)
        for sub in ("queue", "control"):
            (settings.BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
        py = sys.executable
        worker = subprocess.Popen([
            py, "-m", "celery", "-A", "marketplace", "worker", "-B", "-Q", "default,quality,delivery",
            "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", "demo@%h",
            "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
        ])
        web = subprocess.Popen([py, "manage.py", "runserver", addr, "--noreload"])
        self.stdout.write(self.style.SUCCESS(f"\nShujiao is running at http://{addr}/  (Ctrl-C stops web and worker)"))
        self.stdout.write(f"  API docs:  http://{addr}/api/docs/     admin: http://{addr}/admin/")
        self.stdout.write(f"  staff login:  {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}")
        self.stdout.write(f"  firm logins:  {', '.join(f.username for f in demo.FIRMS)}  — password {demo.DEMO_PASSWORD}\n")

        def stop(*_):
            for proc in (web, worker):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        # Handle both explicitly: a shell that starts us in the background ignores SIGINT.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while web.poll() is None and worker.poll() is None:
                try:
                    web.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for proc in (web, worker):
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.stdout.write("Stopped.")
