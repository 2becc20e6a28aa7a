"""Approval → ``ready``: the time a buyer waits for a signed 10 MB delivery, end to end.

    .venv/bin/python -m bench.delivery_e2e [--size-mb 10] [--repeat 5]

Needs PostgreSQL and Redis (the test settings' defaults: ``postgres://postgres@127.0.0.1/``
and ``redis://127.0.0.1:6379``). It creates its own database ``bench_delivery_e2e``,
starts ONE real Celery worker process on the ``delivery`` queue (Redis broker, prefork,
concurrency 1), and for each round: a seller approves a buyer's access request (the
contract is paid into escrow in the same transaction, the build task is published on
commit), then the benchmark polls the delivery row every 5 ms until it is ``ready``.

Side by side in the same run, on the same file:

- ``in-process build``: ``delivery_claim`` + ``delivery_build`` called directly (no
  broker, no worker): what the worker itself spends;
- ``hashlib``: plain SHA-256 of the source (the floor for anything that reads it);

so the difference between approval→ready and the in-process build is the cost of
the queue: commit, publish, worker pickup, and the poll.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11")
DB_NAME = "bench_delivery_e2e"
KEYPREFIX = "bench-delivery-e2e:"
POLL_SECONDS = 0.005


def _setup_django(media: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.test"
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ["CELERY_BROKER_URL"] = BROKER
    os.environ["TEST_DATABASE_NAME"] = DB_NAME
    os.environ["CELERY_KEYPREFIX"] = KEYPREFIX  # the worker subprocess inherits it
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _csv(size: int) -> bytes:
    """A deterministic labelled CSV of about ``size`` bytes matching tests.factories.SCHEMA."""
    rows, total, i = [b"id,text,label\n"], 14, 0
    while total < size:
        i += 1
        row = f"{i},review number {i} 很好 quality fast delivery,{'pos' if i % 3 else 'neg'}\n".encode()
        rows.append(row)
        total += len(row)
    return b"".join(rows)


def _worker(media: Path, log: Path) -> subprocess.Popen:
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER, "MEDIA_ROOT": str(media), "PYTHONUNBUFFERED": "1",
    })
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "-Q", "delivery", "--concurrency", "1",
         "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"bench-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc


def _wait_ready(proc: subprocess.Popen) -> None:
    """The worker is ready once its pool child exists and it consumes: send a no-op build and wait."""
    from exchange.services.dispatch import send_task_now

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the worker exited at start")
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        if out:
            break
        time.sleep(0.2)
    send_task_now("shujiao.delivery.build", "00000000-0000-0000-0000-000000000000")  # warm-up: "nothing to do"
    time.sleep(2)


def _fixture(content: bytes):
    """Seller with a published approval-mode listing of ``content``, staff, and a key."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from exchange.actor import Actor
    from exchange.models import DatasetVersion, Organization
    from exchange.services import catalog, orgs, quality
    from exchange.services.signing import signing_key_ensure
    from exchange.validators import credit_code_check_character
    from tests.factories import SCHEMA

    staff_user = get_user_model().objects.create_user("bench-staff", "s@example.com", "x-bench-pass-2026", is_staff=True)
    staff = Actor(type="staff", user=staff_user)
    signing_key_ensure(actor=staff)
    counter = iter(range(1, 1000))

    def firm(name):
        n = next(counter)
        first17 = f"9134010{n:02d}MA2N{n:04d}"[:17].ljust(17, "0")
        org = orgs.organization_register(actor=Actor.system("bench"), name=name,
                                         credit_code=first17 + credit_code_check_character(first17), city="Hefei",
                                         username=f"bench{n}", email=f"b{n}@example.com", password="a-Long-bench-pass-2026")
        Organization.objects.filter(pk=org.pk).update(verification_status="verified")
        org.refresh_from_db()
        user = org.memberships.first().user
        return org, Actor(type="user", user=user, organization=org)

    seller, seller_actor = firm("Bench Seller")
    dataset = catalog.dataset_create(actor=seller_actor, title="Bench reviews", description="bench", category="text",
                                     kind="labelled", tags=[], schema=dict(SCHEMA))
    version = catalog.version_upload(actor=seller_actor, dataset=dataset,
                                     upload=SimpleUploadedFile("reviews.csv", content))
    quality.quality_check_run(claim=quality.quality_check_claim(version_id=str(version.pk)))
    version.refresh_from_db()
    assert version.status == DatasetVersion.Status.PASSED, version.check_error
    listing = catalog.listing_create(actor=seller_actor, dataset=dataset, version=version)
    offer = catalog.offer_create(actor=seller_actor, listing=listing, name="Std", price_fen=10000,
                                 access_mode="approval")
    instant = catalog.offer_create(actor=seller_actor, listing=listing, name="Instant", price_fen=10000,
                                   access_mode="instant")
    catalog.listing_submit(actor=seller_actor, listing=listing)
    catalog.listing_review(actor=staff, listing=listing, approve=True)
    return staff, seller_actor, offer, instant, firm, version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    media = Path(tempfile.mkdtemp(prefix="bench-delivery-media-"))
    _setup_django(media)
    from django.conf import settings

    if not (settings.POSTGRES_AVAILABLE and settings.REDIS_AVAILABLE):
        print(f"skipped: needs PostgreSQL ({settings.TEST_DATABASE_URL}) and Redis ({BROKER})")
        return 0
    import redis
    from django.test.utils import setup_databases, teardown_databases

    from bench._report import machine, write_section

    broker = redis.Redis.from_url(BROKER)
    for key in broker.scan_iter(match=f"{KEYPREFIX}*"):
        broker.delete(key)
    old_config = setup_databases(verbosity=0, interactive=False)
    worker = None
    try:
        from django.core.files.storage import default_storage

        from exchange.models import Delivery
        from exchange.services import delivery as delivery_svc
        from exchange.services.trading import (
            access_request_approve,
            access_request_create,
            wallet_topup,
        )

        size = int(args.size_mb * 1_000_000)
        content = _csv(size)
        staff, seller_actor, offer, instant, firm, version = _fixture(content)
        print(f"source: {len(content):,} bytes; worker starting", flush=True)
        log = media / "worker.log"
        worker = _worker(media, log)
        _wait_ready(worker)

        e2e, inproc, hashing = [], [], []
        for i in range(args.repeat):
            # Queue: approval (payment + delivery + publish on commit) → worker → ready.
            buyer, buyer_actor = firm(f"Bench Buyer {i}")
            wallet_topup(actor=staff, organization=buyer, amount_fen=100000, memo="bench")
            request = access_request_create(actor=buyer_actor, offer=offer,
                                            purpose="Benchmarking the exchange's delivery pipeline end to end.")
            t0 = time.perf_counter()
            access_request_approve(actor=seller_actor, request=request)
            delivery = Delivery.objects.get(contract__access_request=request)
            while True:
                status = Delivery.objects.filter(pk=delivery.pk).values_list("status", flat=True).get()
                if status in ("ready", "failed"):
                    break
                if time.perf_counter() - t0 > 120:
                    raise SystemExit(f"no ready delivery after 120 s; worker log:\n{log.read_text()[-3000:]}")
                time.sleep(POLL_SECONDS)
            e2e.append(time.perf_counter() - t0)
            assert status == "ready", Delivery.objects.get(pk=delivery.pk).error

            # Peer 1: the same build in this process, no broker (the worker paused meanwhile).
            other, other_actor = firm(f"Bench Inproc {i}")
            wallet_topup(actor=staff, organization=other, amount_fen=100000, memo="bench")
            os.killpg(worker.pid, signal.SIGSTOP)
            try:
                req = access_request_create(actor=other_actor, offer=instant,
                                            purpose="Benchmarking the exchange's delivery pipeline in-process.")
                d = Delivery.objects.get(contract__access_request=req)
                t1 = time.perf_counter()
                claim = delivery_svc.delivery_claim(delivery_id=str(d.pk))
                delivery_svc.delivery_build(claim=claim)
                inproc.append(time.perf_counter() - t1)
            finally:
                os.killpg(worker.pid, signal.SIGCONT)

            # Peer 2: hashlib over the stored source.
            t2 = time.perf_counter()
            h = hashlib.sha256()
            with default_storage.open(version.file.name, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            hashing.append(time.perf_counter() - t2)
            print(f"round {i + 1}: approval→ready {e2e[-1] * 1000:.0f} ms, in-process build "
                  f"{inproc[-1] * 1000:.0f} ms, hashlib {hashing[-1] * 1000:.1f} ms", flush=True)

        package = Delivery.objects.filter(status="ready").first()
        med = {k: statistics.median(v) for k, v in (("e2e", e2e), ("in", inproc), ("hash", hashing))}
        md = f"""## Delivery: approval → ready (`bench/delivery_e2e.py`)

`.venv/bin/python -m bench.delivery_e2e --size-mb {args.size_mb:g} --repeat {args.repeat}` — a
{len(content):,}-byte labelled CSV (package {package.package_size:,} bytes, STORED,
`DELIVERY_HASH_PACKAGE={str(settings.DELIVERY_HASH_PACKAGE).lower()}`), PostgreSQL, Redis broker, **one** Celery worker (prefork,
concurrency 1, `delivery` queue). Clock starts before the seller's approval (which pays into
escrow, creates the delivery and publishes the build on commit) and stops when the
delivery row reads `ready` (polled every {POLL_SECONDS * 1000:g} ms), settlement included.
Median of {args.repeat} rounds.

Machine: {machine()}.

| case | median ms | min–max ms | what |
|---|---:|---:|---|
| approval → ready | {med['e2e'] * 1000:.0f} | {min(e2e) * 1000:.0f}–{max(e2e) * 1000:.0f} | approve + pay + commit, publish to Redis, worker claims, streams from storage, signs, stores, settles |
| in-process build | {med['in'] * 1000:.0f} | {min(inproc) * 1000:.0f}–{max(inproc) * 1000:.0f} | peer: `delivery_claim` + `delivery_build` called directly (no broker, no worker) |
| hashlib | {med['hash'] * 1000:.1f} | {min(hashing) * 1000:.1f}–{max(hashing) * 1000:.1f} | peer: SHA-256 of the stored source, the floor |

Approval → ready minus the in-process build, about {(med['e2e'] - med['in']) * 1000:.0f} ms, is the approval
and payment transaction, publishing on commit, the worker's pickup and the 5 ms poll.
"""
        write_section("delivery-e2e", md)
        print(md)
        return 0
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        from django.db import connections

        connections.close_all()
        teardown_databases(old_config, verbosity=0)
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
