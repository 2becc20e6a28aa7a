"""Upload benchmark: a 1 GB CSV uploaded through the REST API to a real gunicorn server.

Measures throughput and the server's peak RSS (memory must not grow with the file),
side by side in the same run with ``sha256sum`` and ``cp`` of the same file (the
floor: the server hashes the upload and writes it twice — temp file, then storage).

    .venv/bin/python -m bench.upload_bench [--size-gb 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench._report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"

SETUP = """
from exchange.actor import Actor
from exchange.models import Organization
from exchange.services import catalog, orgs
from exchange.validators import credit_code_check_character as c
code = "91330100MA2BENCH0"; code += c(code)
org = Organization.objects.filter(credit_code=code).first() or orgs.organization_register(
    actor=Actor.system("bench"), name="Bench", credit_code=code, username="bench", email="b@x.cn",
    password="bench-Long-pass-2026")
owner = org.memberships.first().user
actor = Actor(type="user", user=owner, organization=org)
ds = catalog.dataset_create(actor=actor, title="bench", category="other", kind="cleaned",
                            schema={"fields": [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"}]})
key, secret = orgs.api_key_create(actor=actor, name="bench", scopes=["read", "sell"])
print(ds.pk, secret)
"""


def make_file(size: int) -> Path:
    path = DATA / f"upload_{size >> 20}MiB.csv"
    if path.exists() and path.stat().st_size == size:
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    block = "".join(f"{i},上传基准 upload benchmark row {i}\n" for i in range(20000)).encode()
    with open(path, "wb") as f:
        f.write(b"id,text\n")
        written = 8
        while written + len(block) <= size:
            f.write(block)
            written += len(block)
        f.write(b"0," + b"x" * max(0, size - written - 3) + b"\n")
    return path


def rss_tree_kb(pid: int) -> int:
    """Resident memory of a process and its children, in KiB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total = max(total, int(line.split()[1]))  # the worker that handles the request
        except OSError:
            pass
    return total


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def upload_once(size: int) -> tuple[float, int, int, dict]:
    """Upload a ``size``-byte CSV to a fresh server; (seconds, peak KiB, idle KiB, version JSON)."""
    src = make_file(size)
    tmp = Path(tempfile.mkdtemp(prefix="shujiao-upload-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings.local", "SHUJIAO_VAR_DIR": str(tmp),
           "FILE_UPLOAD_TEMP_DIR": str(tmp), "MAX_UPLOAD_BYTES": str(8 * 1024**3), "THROTTLE_USER": "100000/min"}
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    ds_id, secret = subprocess.run([py, "manage.py", "shell", "--no-imports", "-c", SETUP], cwd=ROOT, env=env, check=True,
                                   capture_output=True, text=True).stdout.split()[-2:]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(py).parent / "gunicorn"), "marketplace.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
                               "--timeout", "900"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        idle_kb = rss_tree_kb(server.pid)
        peak = {"kb": idle_kb}
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                peak["kb"] = max(peak["kb"], rss_tree_kb(server.pid))
                time.sleep(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        start = time.perf_counter()
        out = subprocess.run(["curl", "-sS", "-f", "-H", f"Authorization: Api-Key {secret}", "-F", f"file=@{src}",
                              f"http://127.0.0.1:{port}/api/v1/datasets/{ds_id}/versions/"], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        stop.set()
        poller.join()
        if out.returncode != 0:
            raise SystemExit(f"upload failed: {out.stdout} {out.stderr}")
        version = json.loads(out.stdout)
        assert version["byte_size"] == size, version
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    return seconds, peak["kb"], idle_kb, version


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    size = int(args.size_gb * 1024**3)
    rows = []
    for part in (size // 4, size):
        seconds, peak_kb, idle_kb, version = upload_once(part)
        rows.append((f"Shujiao API upload, {part / 1024**3:.2f} GiB (gunicorn, multipart, hash + store)", part, seconds,
                     f"{peak_kb / 1024:.0f} MiB (idle {idle_kb / 1024:.0f} MiB)"))
    src = make_file(size)
    tmp = Path(tempfile.mkdtemp(prefix="shujiao-upload-bench-"))
    rows.append((f"sha256sum, {size / 1024**3:.2f} GiB (hash only)", size, timed(["sha256sum", str(src)]), "—"))
    rows.append((f"cp, {size / 1024**3:.2f} GiB (copy only)", size, timed(["cp", str(src), str(tmp / "copy.csv")]), "—"))
    shutil.rmtree(tmp, ignore_errors=True)
    table = "\n".join(f"| {name} | {n / 1e6 / secs:.0f} MB/s | {secs:.1f} s | {rss} |" for name, n, secs, rss in rows)
    md = f"""## Upload (`make bench` → `python -m bench.upload_bench --size-gb {args.size_gb:g}`)

CSV files uploaded with `curl -F` to `POST /api/v1/datasets/<id>/versions/` on one gunicorn worker (SQLite, local
storage); SHA-256 computed while streaming. Machine: {machine()}.

| case | throughput | time | server peak RSS |
|---|---|---|---|
{table}

Peak RSS is the same for a quarter of the file and the whole file: the upload streams to a temporary file in
1 MiB chunks (hashed on the way) and is then copied to storage in chunks. The server writes every byte twice
(temporary file, then storage), so `sha256sum` + `cp` of the same file is the floor to compare with."""
    print(md)
    if not args.no_write:
        write_section("upload", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
