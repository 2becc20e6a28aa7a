"""Delivery packaging benchmark: build_package vs the cost of just hashing the file.

    .venv/bin/python -m bench.delivery_bench [--size-gb 1] [--repeat 3]

Generates a deterministic CSV-like file in bench/data/ (gitignored), then runs each
case in its own subprocess, interleaved, ``--repeat`` times, reporting the median
throughput and the child's peak RSS (``VmHWM``: polled from ``/proc/<pid>/status`` by
the parent, and for Python children also read by the child itself just before exiting;
``ru_maxrss`` is not used because Linux carries the forking parent's high-water mark
into an exec'd child):

- ``hashlib.sha256`` over the file in 1 MiB chunks — the limit (the package must hash
  every byte at least once);
- ``build_package`` STORED (the default), with ``hash_package=True``, and DEFLATE,
  written to bench/data/;
- ``verify_package`` of the STORED package;
- peers: the ``sha256sum`` CLI and ``zip -0`` (Info-ZIP, CRC-32 + copy, no signature).

Targets: package >= 0.7x hashlib's MB/s, peak RSS < 200 MB. The OS page cache is
warm (the file is read once before timing), so these are CPU-bound figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
MiB = 1 << 20
# A 16 MiB block of random CSV rows, repeated: deflate's 32 KiB window never sees
# the repetition, so compression behaves like on real varied text.
BLOCK = 16 * MiB


def make_source(size: int) -> Path:
    path = DATA / f"delivery-source-{size}.csv"
    if path.exists() and path.stat().st_size == size:
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261127)
    words = ["好评", "差评", "fast", "delivery", "quality", "price", "物流", "包装", "ok", "good"]
    rows, n = [b"id,user,text,label,score\n"], 0
    total = len(rows[0])
    while total < BLOCK:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        row = f"{n},u{rng.randint(1, 10**6)},{text},{rng.choice(['pos', 'neg'])},{rng.random():.4f}\n"
        rows.append(row.encode())
        total += len(rows[-1])
        n += 1
    block = b"".join(rows)[:BLOCK]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        left = size
        while left:
            part = block[: min(left, BLOCK)]
            f.write(part)
            left -= len(part)
    tmp.replace(path)
    return path


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            h.update(chunk)
    return h.hexdigest()


# --- cases run inside the child process -------------------------------------------

def child(case: str, src: str, out: str, expected: str) -> None:
    from datetime import UTC, datetime

    t0 = time.perf_counter()
    if case == "hashlib":
        h = hashlib.sha256()
        buf = bytearray(MiB)
        view = memoryview(buf)
        with open(src, "rb", buffering=0) as f:
            while n := f.readinto(buf):
                h.update(view[:n])
        assert h.hexdigest() == expected
    elif case in ("package", "package-hashed", "package-deflate"):
        from workers.delivery import build_package, generate_private_key

        fields = {
            "delivery_id": "bench", "contract_id": "c", "listing_id": "l",
            "dataset_version_id": "v", "seller": {"name": "s", "credit_code": "x"},
            "buyer": {"name": "b", "credit_code": "y"},
            "license": {"purpose": "bench", "term_days": 1, "download_limit": 1,
                        "redistribution": False},
            "issued_at": datetime(2026, 1, 1, tzinfo=UTC),
            "expires_at": datetime(2027, 1, 1, tzinfo=UTC),
        }
        key = generate_private_key()
        t0 = time.perf_counter()
        with open(src, "rb", buffering=0) as s, open(out, "wb", buffering=0) as o:
            build_package(source=s, out=o, data_path="data/reviews.csv", license_text="bench",
                          manifest_fields=fields, expected_sha256=expected, private_key=key,
                          deflate=case == "package-deflate",
                          hash_package=case == "package-hashed")
        (Path(out).with_suffix(".key")).write_text(key.public_key().public_bytes_raw().hex())
    elif case == "verify":
        from workers.delivery import load_public_key, verify_package

        pub = load_public_key(bytes.fromhex(Path(out).with_suffix(".key").read_text()))
        t0 = time.perf_counter()
        res = verify_package(out, public_keys=[pub],
                             now=datetime(2026, 6, 1, tzinfo=UTC))
        assert res.ok, res.checks
    else:
        raise SystemExit(f"unknown case {case}")
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "hwm": vm_hwm("self")}))


def vm_hwm(pid: int | str) -> int:
    """Peak resident set size (VmHWM) of a live process in bytes, 0 if unavailable."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


# --- parent -------------------------------------------------------------------------

def run_child(argv: list[str], *, parse_json: bool) -> tuple[float, int]:
    """Run argv, return (seconds, peak RSS bytes of that child).

    Python children time their own core operation (no interpreter start-up or imports);
    CLI peers are timed by wall clock around the process.
    """
    t0 = time.perf_counter()
    with subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        hwm = 0
        while proc.poll() is None:
            hwm = max(hwm, vm_hwm(proc.pid))
            time.sleep(0.05)  # VmHWM only grows; Python children also report their own
        wall = time.perf_counter() - t0
        stdout = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} failed with exit status {proc.returncode}")
    if parse_json:
        report = json.loads(stdout.decode().strip().splitlines()[-1])
        return report["seconds"], max(hwm, report["hwm"])
    return wall, hwm


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print, do not rewrite docs/benchmarks.md")
    ap.add_argument("--child", nargs=4, metavar=("CASE", "SRC", "OUT", "SHA"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0

    size = int(args.size_gb * (1 << 30))
    load_before = os.getloadavg()
    print(f"preparing {size / MiB:.0f} MiB source in {DATA} ...", flush=True)
    src = make_source(size)
    expected = file_sha256(src)  # also warms the page cache
    out = DATA / "delivery-out.zip"
    py = [sys.executable, "-m", "bench.delivery_bench", "--child"]

    cases: dict[str, list[str] | None] = {
        "hashlib": py + ["hashlib", str(src), str(out), expected],
        "package": py + ["package", str(src), str(out), expected],
        "package +hash": py + ["package-hashed", str(src), str(DATA / "hashed.zip"), expected],
        "verify": py + ["verify", str(src), str(out), expected],
        "sha256sum": ["sha256sum", str(src)] if shutil.which("sha256sum") else None,
        "zip -0": ["zip", "-0", "-q", "-j", str(DATA / "peer-zip.zip"), str(src)]
        if shutil.which("zip") else None,
    }
    results: dict[str, list[tuple[float, int]]] = {k: [] for k, v in cases.items() if v}
    for i in range(args.repeat):
        for name, cmd in cases.items():
            if cmd is None:
                continue
            # start every writer on a fresh file: truncating last run's 1 GB is not our cost
            for stale in ("peer-zip.zip", "hashed.zip") + (("delivery-out.zip",) if name == "package" else ()):
                (DATA / stale).unlink(missing_ok=True)
            # flush earlier runs' dirty pages now, so kernel writeback does not compete
            # with the timed case for the CPUs
            os.sync()
            secs, rss = run_child(cmd, parse_json=cmd[0] == sys.executable)
            results[name].append((secs, rss))
            print(f"  run {i + 1} {name:<16} {size / MiB / secs:8.0f} MiB/s  peak RSS {rss / MiB:6.1f} MiB",
                  flush=True)
    # DEFLATE is ~20x slower; once is enough to show its cost.
    os.sync()
    secs, rss = run_child(py + ["package-deflate", str(src), str(DATA / "deflate.zip"), expected],
                          parse_json=True)
    deflated = (DATA / "deflate.zip").stat().st_size
    results["package (deflate)"] = [(secs, rss)]
    print(f"  run 1 package (deflate) {size / MiB / secs:8.0f} MiB/s  peak RSS {rss / MiB:6.1f} MiB "
          f"({deflated / size:.1%} of the source)", flush=True)
    package_size = out.stat().st_size
    for p in (out, out.with_suffix(".key"), DATA / "deflate.zip", DATA / "deflate.key",
              DATA / "peer-zip.zip", DATA / "hashed.zip", DATA / "hashed.key"):
        p.unlink(missing_ok=True)

    load_after = os.getloadavg()
    # ratio of package to hashlib within each round (same moment, same machine state)
    paired = sorted(h / p for (h, _), (p, _) in zip(results["hashlib"], results["package"], strict=True))
    paired_median = statistics.median(paired)
    med = {k: (statistics.median(s for s, _ in v), max(r for _, r in v)) for k, v in results.items()}
    limit = size / MiB / med["hashlib"][0]
    pkg_mbs = size / MiB / med["package"][0]
    ratio = pkg_mbs / limit
    pkg_rss = med["package"][1] / MiB
    notes = {
        "hashlib": "the limit: Python `hashlib.sha256` over the file, 1 MiB `readinto`",
        "package": "`build_package`, STORED (default): read once, SHA-256 of the source, CRC-32, write, sign",
        "package +hash": "same with `hash_package=True`: also the SHA-256 of the ZIP as written (2 hashes per byte)",
        "package (deflate)": f"`build_package(deflate=True)`, once; package is {deflated / size:.1%} of the source",
        "verify": "`verify_package` of the STORED package (CRC-32 + SHA-256 of every member)",
        "sha256sum": "peer: coreutils `sha256sum`",
        "zip -0": "peer: Info-ZIP `zip -0` (CRC-32 + copy; no hash, no signature)",
    }
    order = ["hashlib", "package", "package +hash", "package (deflate)", "verify", "sha256sum", "zip -0"]
    rows = []
    for name in order:
        if name not in med:
            continue
        secs, rss = med[name]
        mbs = size / MiB / secs
        runs = [size / MiB / s for s, _ in results[name]]
        spread = f"{min(runs):,.0f}–{max(runs):,.0f}" if len(runs) > 1 else "—"
        rows.append(f"| {name} | {secs:.2f} | {mbs:,.0f} | {spread} | {mbs / limit:.2f}x | "
                    f"{rss / MiB:.0f} | {notes[name]} |")
    # judged on the per-round ratio: both measured at the same moment, so less exposed
    # to whatever else the machine is doing than a ratio of two medians
    verdict_speed = "meets" if paired_median >= 0.7 else "MISSES"
    verdict_rss = "meets" if pkg_rss < 200 else "MISSES"
    md = f"""
## Delivery packaging (`bench/delivery_bench.py`)

`.venv/bin/python -m bench.delivery_bench --size-gb {args.size_gb:g} --repeat {args.repeat}` — a
{size / MiB:,.0f} MiB deterministic CSV-like file, page cache warm, each case in its own
subprocess (peak RSS = that child's VmHWM), `sync` before each case, cases interleaved,
median of {args.repeat} runs (RSS: the maximum).
Package output: {package_size:,} bytes (ZIP64, STORED).

Machine: {machine()}. Load average (1 min) {load_before[0]:.1f} before and
{load_after[0]:.1f} after the run: other work shared the 2 cores while it ran.

| case | seconds | MiB/s | range MiB/s | vs hashlib | peak RSS (MiB) | what |
|---|---:|---:|---:|---:|---:|---|
{chr(10).join(rows)}

The time from approval to `ready` with a real worker on Redis is in the next section (`bench/delivery_e2e.py`).

Targets: package ≥ 0.7x hashlib MiB/s — **{verdict_speed}**: per-round package/hashlib
ratios {", ".join(f"{r:.2f}" for r in paired)}, median **{paired_median:.2f}x** (ratio of the
medians above: {ratio:.2f}x);
peak RSS < 200 MB — **{verdict_rss}** ({pkg_rss:.0f} MiB).

How: the source is read once with `readinto` into a ring of ten reused 1 MiB buffers;
its SHA-256 (the integrity check against the stored version *and* the data file's
`files`/`SHA256SUMS` entry — computed once) runs on a background thread (hashlib
releases the GIL) while the main thread does zipfile's CRC-32 and the write. The
hand-off queue is bounded (8 chunks), so memory does not grow with the file.
`hash_package=True` adds a second SHA-256 over every byte written (the ZIP's own digest)
on another thread; with two cores that cannot stay near the one-hash limit, so it is
opt-in. The exchange's worker builds with the default ("package" row); `DELIVERY_HASH_PACKAGE=true`
makes it opt in (the package's SHA-256 is then shown to the buyer), at the "package +hash" speed. DEFLATE is single-threaded zlib and is there for completeness.

Caveat: the packaging speed relies on the second core. On this VM two threads hashing in
parallel were seen to scale anywhere between 1.1x and 1.9x from one moment to the next,
and with other processes busy (see the load average) the package cases swing more than
the single-threaded hashlib limit (see the range column). In quieter runs during development
the package reached 0.98x hashlib; under contention it falls towards its single-core
figure, about 0.5x.
"""
    print(md)
    if not args.no_write:
        write_section("delivery", md)
        print("wrote the delivery section of docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
