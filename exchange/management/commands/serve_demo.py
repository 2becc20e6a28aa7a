"""Serve the demo: the web server on 127.0.0.1:8000 and a real Celery worker (with beat).

Both run as child processes; Ctrl-C (or SIGTERM) stops both. Used by ``make demo``.

The web server is gunicorn with one process and a bounded pool of threads (``--threads``):
SQLite has one writer at a time, and the writer must not compete for the GIL with a thread
per client (runserver starts one per connection: 40 clients, 40 runnable threads, and the
thread holding the write lock got a 40th of the interpreter). Idle keep-alive connections
wait in gunicorn's poller, not in a thread. One process, so the process-wide write lock of
``marketplace.sqlite_backend`` orders every web writer. ``--server runserver`` keeps
Django's development server (and is the fallback where gunicorn does not run: Windows).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exchange import demo

READY_MARK = b" ready."  # Celery's "celery@host ready." line, printed after its banner
READY_SECONDS = 60.0


QUIET_SECONDS = 1.5  # the worker's start-up backlog (the demo's queued checks and e-mails) is done


def forward(stream, write, ready: threading.Event, last_line: list[float]) -> None:
    """Copy a child's output to ours line by line; set ``ready`` when the worker says it is,
    and keep the time of the last line (the logins wait until the worker has gone quiet)."""
    for line in iter(stream.readline, b""):
        write(line.decode("utf-8", errors="replace"))
        last_line[0] = time.monotonic()
        if READY_MARK in line:
            ready.set()
    ready.set()  # the child ended: nothing more to wait for


def port_open(addr: str) -> bool:
    host, _, port = addr.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=0.5):
            return True
    except (OSError, ValueError):
        return False


def wait_until(condition, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)  # polling a condition until a deadline, not a fixed wait
    return condition()


# Enough threads that a slow request (a login's Argon2 hash, an upload) does not hold up the
# rest, few enough that the thread holding SQLite's write lock is not starved of the GIL.
WEB_THREADS = 6


# The worker's checks and builds yield the CPU to the web server's requests: on the demo's few
# cores a running check otherwise takes a core from requests that hold SQLite's write lock.
# Linux gives a nice-0 process about 3x the CPU share of a nice-5 one (CFS weights 1024 / 335),
# so the worker still gets a quarter of a busy core and drains what the load queued right after.
WORKER_NICE = 5


def _lower_priority(increment: int):
    """A ``preexec_fn`` that lowers the child's scheduling priority (POSIX; None elsewhere)."""
    if increment <= 0 or not hasattr(os, "nice"):
        return None
    return lambda: os.nice(increment)


def web_command(py: str, server: str, addr: str, threads: int, processes: int = 1) -> list[str]:
    """The web server's command line: gunicorn (``processes`` × ``threads`` threads) or runserver."""
    if server == "runserver":
        return [py, "manage.py", "runserver", addr, "--noreload"]
    return [py, "-m", "gunicorn", "marketplace.wsgi:application", "--bind", addr, "--workers", str(processes),
            "--worker-class", "gthread", "--threads", str(threads),
            # a request may take long under load (the clients time out, not the server); at Ctrl-C
            # running requests get 5 s, the same grace serve_demo gives the web process
            "--timeout", "120", "--graceful-timeout", "5", "--keep-alive", "75",
            "--access-logfile", "-", "--access-logformat", '"%(r)s" %(s)s %(b)s %(L)ss']


class Command(BaseCommand):
    help = "Run the web server and a Celery worker together until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("SHUJIAO_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--server", choices=("gunicorn", "runserver"),
                            default=os.environ.get("SHUJIAO_WEB_SERVER", "runserver" if os.name == "nt" else "gunicorn"))
        parser.add_argument("--threads", type=int, default=os.environ.get("SHUJIAO_WEB_THREADS", str(WEB_THREADS)),
                            help="request threads of the web server (gunicorn)")
        parser.add_argument("--processes", type=int, default=os.environ.get("SHUJIAO_WEB_PROCESSES", "1"),
                            help="web server processes (gunicorn); the write lock orders writers within one")
        parser.add_argument("--worker-nice", type=int, default=os.environ.get("SHUJIAO_WORKER_NICE", str(WORKER_NICE)),
                            help="how much lower the worker's CPU priority is than the web server's (POSIX nice)")
        parser.add_argument("--warm-seconds", type=float, default=20.0,
                            help="how long running tasks may finish after Ctrl-C before they are cancelled")

    def handle(self, *args, addr: str, concurrency: int, warm_seconds: float, server: str = "gunicorn",
               threads: int = WEB_THREADS, worker_nice: int = WORKER_NICE, processes: int = 1, **options):
        if threads < 1 or processes < 1:
            raise CommandError("--threads and --processes must be at least 1.")
        settings.BROKER_DIR.mkdir(parents=True, exist_ok=True)
        for sub in ("queue", "control"):
            (settings.BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
        py = sys.executable
        # Each child leads its own process group: Ctrl-C reaches only this command, which
        # stops them in order, and a group can be ended whole (pool processes, beat) at the end.
        worker = subprocess.Popen([
            py, "-m", "celery", "-A", "marketplace", "worker", "-B", "-Q", "default,quality,delivery",
            "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", "demo@%h",
            "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
        ], start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_lower_priority(worker_nice))
        ready = threading.Event()
        last_line = [time.monotonic()]
        if getattr(worker, "stdout", None) is not None:
            def write(text: str) -> None:
                self.stdout.write(text, ending="")
                self.stdout.flush()

            threading.Thread(target=forward, args=(worker.stdout, write, ready, last_line), daemon=True).start()
        else:
            ready.set()
        # The web server runs with DEBUG off unless asked otherwise: a wrong URL shows the site's
        # 404 page, not Django's technical page listing every URL pattern.
        web_env = {**os.environ, "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "False")}
        web = subprocess.Popen(web_command(py, server, addr, threads, processes), start_new_session=True, env=web_env)
        stopping = {"asked": False}

        def ask_stop(*_):
            stopping["asked"] = True

        # Handle both explicitly: a shell that starts us in the background ignores SIGINT.
        signal.signal(signal.SIGTERM, ask_stop)
        signal.signal(signal.SIGINT, ask_stop)
        try:
            # The logins come last, after the worker's banner and the web server's first lines, so
            # they are what is on screen when the demo is up (or after a minute, whatever came).
            deadline = time.monotonic() + READY_SECONDS
            wait_until(lambda: ready.is_set() or stopping["asked"] or worker.poll() is not None, deadline)
            wait_until(lambda: stopping["asked"] or web.poll() is not None or port_open(addr), deadline)
            wait_until(lambda: stopping["asked"] or worker.poll() is not None
                       or time.monotonic() - last_line[0] >= QUIET_SECONDS, deadline)
            if not stopping["asked"]:
                self.stdout.write(self.style.SUCCESS(f"\nShujiao is running at http://{addr}/  (Ctrl-C stops web and worker)"))
                self.stdout.write(f"  API docs:  http://{addr}/api/docs/     admin: http://{addr}/admin/")
                self.stdout.write(f"  staff login:  {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}")
                self.stdout.write(f"  firm logins:  {', '.join(f.username for f in demo.FIRMS)}  — password {demo.DEMO_PASSWORD}\n")
            while not stopping["asked"] and web.poll() is None and worker.poll() is None:
                try:
                    web.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            self._stop(web, worker, warm_seconds)
        self.stdout.write("Stopped.")

    def _stop(self, web: subprocess.Popen, worker: subprocess.Popen, warm_seconds: float) -> None:
        """Web at once; the worker warm (running tasks finish, nothing new starts), then after
        ``warm_seconds`` cold (SIGQUIT: running tasks are cancelled and their unacknowledged
        messages go back to the broker, so they run again next start); finally anything left
        in either process group (pool processes, beat) is killed. No orphans."""
        for proc in (web, worker):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        if worker.poll() is None:
            self.stdout.write(f"Stopping: running tasks may finish for {warm_seconds:g}s …")
        for proc, wait, then in ((worker, warm_seconds, signal.SIGQUIT), (worker, 10, None), (web, 5, None)):
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                if then is not None and proc.poll() is None:
                    self.stdout.write("Running tasks cancelled; they are redelivered at the next start.")
                    proc.send_signal(then)
        for proc in (web, worker):
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group's leftovers, if any
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
