"""Catalog at scale: req/s and latency of the catalog pages at 1k / 10k / 100k published listings.

    .venv/bin/python -m bench.catalog_bench [--sizes 1000,10000,100000] [--requests 400] [--concurrency 4]

Builds a PostgreSQL database (``--db``, dropped and re-created), migrates it, grows the catalog
step by step with bulk inserts (500 sellers, 1–3 offers a listing, a ~4 kB quality report each,
one paid contract per two listings) with the flat columns filled at insert time (a sample checked
against the app's own ``listings_refresh_flat``) and the GIN search indexes built once after the load. At each size it serves the site with ``gunicorn -w 2`` (production
settings, DEBUG off, Redis cache) beside a bare Django JSON view (the yardstick, same
middleware) and measures each case with ApacheBench (``ab``, Debian package apache2-utils).
Writes the table into docs/benchmarks.md. Targets: every case >= 0.15x the bare view's req/s
in the same run, and p50 at the largest size within 1.25x of the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench._report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
PORT = 8391
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_CACHE = "redis://127.0.0.1:6379/13"
TARGET_RATIO = 0.15
# A case whose path ends with this is requested with a (meaningless) session cookie: it skips the page cache.
COOKIE_MARK = "#cookie"
TARGET_GROWTH = 1.25

WORDS_ZH = ["语音识别", "声纹", "图像标注", "医疗影像", "客服对话", "工业质检", "金融风控", "交通流量", "方言", "商品评论",
            "自动驾驶", "文本分类", "人脸", "病历", "发票", "物流轨迹", "情感分析", "机器翻译", "遥感", "缺陷检测"]
WORDS_EN = ["speech", "voiceprint", "annotation", "medical", "dialogue", "inspection", "credit", "traffic", "dialect",
            "reviews", "driving", "classification", "faces", "records", "invoices", "logistics", "sentiment",
            "translation", "satellite", "defects"]
CATEGORIES = ["speech", "vision", "text", "manufacturing", "finance", "transport", "health", "other"]
CITIES = ["合肥", "北京", "上海", "深圳", "杭州", "成都", "武汉", "西安"]


def cases(pages_at_size: int) -> list[tuple[str, str]]:
    deep = min(500, max(1, pages_at_size))
    return [
        ("bare Django JSON view (yardstick)", "/bench/bare/"),
        ("API catalog, first page", "/api/v1/catalog/"),
        ("API search 中文 (语音, 2 characters)", "/api/v1/catalog/?q=" + urllib.parse.quote("语音")),
        ("API search 中文 (医疗影像, 4 characters)", "/api/v1/catalog/?q=" + urllib.parse.quote("医疗影像")),
        ("API search English (speech)", "/api/v1/catalog/?q=speech"),
        ("web search + facets (/?q=speech&kind=labelled)", "/?q=speech&kind=labelled"),
        (f"API deep page (page {deep})", f"/api/v1/catalog/?page={deep}"),
        ("web catalog /", "/"),
        ("web catalog / with a session cookie (rendered, not page-cached)", "/?session" + COOKIE_MARK),
        ("web /market/", "/market/"),
        ("API /api/v1/market/stats/", "/api/v1/market/stats/"),
        ("bare Django JSON view, again (yardstick)", "/bench/bare/?again"),
    ]


# --- Database -------------------------------------------------------------------------
def _env(db: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "bench.catalog_settings",
        "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{db}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "REDIS_URL": REDIS_CACHE,
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "SIGNING_KEY_PASSPHRASE": "bench-only-passphrase",
        "FINGERPRINT_SECRET": "bench-only-fingerprint-secret-0123456789abcdef",
        "PUBLIC_BASE_URL": "https://bench.shujiao.invalid",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        **{f"THROTTLE_{k}": "100000000/min" for k in ("ANON", "USER", "API_KEY", "FIRM")},
    })
    return env


def _psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(["psql", "-h", PG["host"], "-p", str(PG["port"]), "-U", PG["user"], "-d", db, "-Atqc", sql],
                          check=True, capture_output=True, text=True).stdout


def setup_django(db: str) -> None:
    os.environ.update(_env(db))
    import django

    django.setup()


def recreate_database(db: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{db}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=_env(db), check=True)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=_env(db),
                   check=True)


def _report_json(rng: random.Random) -> dict:
    """A report shaped like the profiler's, about 4 kB (what the old list query dragged along)."""
    columns = {f"col_{i}": {"type": "string", "nulls": rng.randint(0, 9), "distinct": rng.randint(10, 9999),
                            "top": [[f"value {j} 值", rng.randint(1, 99)] for j in range(5)]} for i in range(8)}
    return {"rows": rng.randint(10_000, 5_000_000), "columns": columns, "sample": [[f"cell {i}-{j}" for j in range(8)]
                                                                                  for i in range(10)],
            "gates": {"passed": True, "failures": []}}


SEARCH_INDEXES = ("listing_search_trgm", "listing_search_bigrams")


def _drop_search_indexes() -> list[str]:
    """Drop the GIN search indexes for the bulk load (built once afterwards: far cheaper than row by row)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'exchange_listing' "
                    "AND indexname = ANY(%s)", [list(SEARCH_INDEXES)])
        found = cur.fetchall()
        for name, _ in found:
            cur.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


def _check_flat_sample(listing_ids: list, rng: random.Random) -> None:
    """The flat columns written by the bulk load equal what the app's ``listings_refresh_flat`` computes."""
    from django.db import transaction

    from exchange.models import Listing
    from exchange.services.catalog_flat import FLAT_FIELDS, listings_refresh_flat

    sample = rng.sample(listing_ids, min(50, len(listing_ids)))
    before = {r["id"]: r for r in Listing.objects.filter(pk__in=sample).values("id", *FLAT_FIELDS)}
    with transaction.atomic():
        listings_refresh_flat(sample)
    after = {r["id"]: r for r in Listing.objects.filter(pk__in=sample).values("id", *FLAT_FIELDS)}
    if before != after:
        diff = next(k for k in before if before[k] != after[k])
        raise SystemExit(f"bulk-loaded flat columns differ from listings_refresh_flat: {before[diff]} != {after[diff]}")


def grow(target: int, rng: random.Random) -> float:
    """Add published listings (with datasets, versions, reports, offers, contracts) up to ``target``.

    Rows go in with multi-row INSERTs (``bulk_create``) with the flat catalog columns filled from the
    same values (the app's ``search_text_of`` and blurb rule), the GIN search indexes dropped during
    the load and rebuilt once; a sample is then recomputed with ``listings_refresh_flat`` and compared.
    """
    import hashlib
    import uuid
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from exchange.models import (
        AccessRequest,
        Contract,
        Dataset,
        DatasetVersion,
        Listing,
        Offer,
        Organization,
        QualityReport,
    )
    from exchange.services.catalog_flat import blurb_of, search_text_of

    started = time.perf_counter()
    sellers = list(Organization.objects.order_by("name").values_list("pk", "name"))
    if not sellers:
        orgs = [Organization(name=f"{CITIES[i % 8]}数据{i}号有限公司 Data Co {i}", credit_code=f"BENCH{i:013d}",
                             city=CITIES[i % 8], verification_status="verified", verified_at=timezone.now())
                for i in range(500)]
        Organization.objects.bulk_create(orgs)
        sellers = [(o.pk, o.name) for o in orgs]
    have = Listing.objects.filter(status="published").count()
    if have >= target:
        return time.perf_counter() - started
    now = timezone.now()
    report = _report_json(rng)
    batch = 5000
    index_sql = _drop_search_indexes()
    added: list = []
    while have < target:
        n = min(batch, target - have)
        datasets, versions, reports, listings, offers, requests, contracts = [], [], [], [], [], [], []
        for k in range(n):
            i = have + k
            zh, zh2 = rng.choice(WORDS_ZH), rng.choice(WORDS_ZH)
            en, en2 = WORDS_EN[WORDS_ZH.index(zh)], rng.choice(WORDS_EN)
            owner, owner_name = sellers[i % len(sellers)]
            ds = Dataset(id=uuid.uuid4(), owner_id=owner, title=f"{zh}{zh2}数据集 {i}", category=rng.choice(CATEGORIES),
                         kind=rng.choice(["labelled", "cleaned"]), tags=[en, en2],
                         description=f"{zh}相关的{zh2}数据，经过清洗与标注。A {en} and {en2} dataset, number {i}, "
                                     f"collected in {CITIES[i % 8]}.")
            v = DatasetVersion(id=uuid.uuid4(), dataset_id=ds.id, number=1, file=f"datasets/bench/{i}.csv",
                               original_filename=f"d{i}.csv", format="csv", byte_size=rng.randint(10**4, 10**9),
                               sha256=hashlib.sha256(str(i).encode()).hexdigest(), row_count=rng.randint(1000, 10**7),
                               status="passed")
            score = rng.randint(40, 100)
            grade = "A" if score >= 90 else "B" if score >= 80 else "C" if score >= 70 else "D" if score >= 60 else "E"
            reports.append(QualityReport(version_id=v.id, report=report, score=score, grade=grade, passed=True))
            published = now - timedelta(minutes=i)
            title, summary = f"{zh} {en} {i}", f"{zh2} · {en2}"
            li = Listing(id=uuid.uuid4(), dataset_id=ds.id, version_id=v.id, title=title, summary=summary,
                         status="published", published_at=published, reviewed_at=published,
                         quality_score=score, quality_grade=grade, row_count=v.row_count, category=ds.category,
                         kind=ds.kind, blurb=blurb_of(summary, ds.description),
                         search_text=search_text_of(title, summary, ds.title, " ".join(ds.tags), owner_name,
                                                    ds.description))
            li_offers = []
            for j in range(rng.randint(1, 3)):
                li_offers.append(Offer(id=uuid.uuid4(), listing_id=li.id, name=f"Licence {j}",
                                       price_fen=rng.choice([100, 990, 5000, 19900, 99900, 500000]) * (j + 1),
                                       access_mode=rng.choice(["instant", "approval"])))
            li.best_price_fen = min(o.price_fen for o in li_offers)
            offers.extend(li_offers)
            if i % 2 == 0:
                offer, buyer = offers[-1], sellers[(i + 1) % len(sellers)][0]
                ar = AccessRequest(id=uuid.uuid4(), buyer_id=buyer, seller_id=owner, offer_id=offer.id, listing_id=li.id,
                                   purpose="Model training", status="approved", decided_at=published)
                requests.append(ar)
                contracts.append(Contract(id=uuid.uuid4(), access_request_id=ar.id, buyer_id=buyer, seller_id=owner,
                                          listing_id=li.id, offer_id=offer.id, dataset_version_id=v.id,
                                          price_fen=offer.price_fen, commission_bp=500, purpose="Model training",
                                          term_days=365, download_limit=5, redistribution=False,
                                          licence_text="Licence", licence_sha256="0" * 64,
                                          status=rng.choice(["paid", "settled"]),
                                          paid_at=published - timedelta(days=rng.randint(0, 300))))
            datasets.append(ds)
            versions.append(v)
            listings.append(li)
        with transaction.atomic():
            for model, rows in ((Dataset, datasets), (DatasetVersion, versions), (QualityReport, reports),
                                (Listing, listings), (Offer, offers), (AccessRequest, requests), (Contract, contracts)):
                model.objects.bulk_create(rows, batch_size=1000)
        added.extend(li.id for li in listings)
        have += n
        print(f"  {have:,} listings", end="\r", flush=True)
    with connection.cursor() as cur:
        for sql in index_sql:
            cur.execute(sql)
    _check_flat_sample(added, rng)
    with connection.cursor() as cur:
        cur.execute("UPDATE exchange_cataloggeneration SET value = value + 1")
    connection.close()
    _psql("VACUUM ANALYZE", db=os.environ["DATABASE_URL"].rsplit("/", 1)[1])
    return time.perf_counter() - started


# --- Serving and measuring ------------------------------------------------------------------
def serve(db: str) -> subprocess.Popen:
    log = (ROOT / "bench" / "data")
    log.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{PORT}", "--access-logfile", "-",
         "--access-logformat", "-", "marketplace.wsgi"],
        cwd=ROOT, env=_env(db), stdout=subprocess.DEVNULL, stderr=(log / "catalog-gunicorn.log").open("wb"),
        start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/bench/bare/", timeout=2).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {log / 'catalog-gunicorn.log'}") from None
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def measure(path: str, *, requests: int, concurrency: int) -> dict:
    cookie = path.endswith(COOKIE_MARK)
    url = f"http://127.0.0.1:{PORT}{path.removesuffix(COOKIE_MARK)}"
    headers = {"Cookie": "sessionid=bench-no-such-session"} if cookie else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as resp:  # warm caches
        body = resp.read()
        status = resp.status
    for _ in range(10):
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120).read()
    extra = ["-C", "sessionid=bench-no-such-session"] if cookie else []
    out = subprocess.run(["ab", "-q", "-n", str(requests), "-c", str(concurrency), *extra, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    pct = {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"^\s+(\d+)%\s+(\d+)", out, re.M)}
    return {"rps": rps, "p50": pct.get(50), "p99": pct.get(99), "bytes": len(body), "status": status,
            "failed": failed + (int(non2xx.group(1)) if non2xx else 0)}


def _bare(at_size: dict[str, dict]) -> float:
    """The yardstick: the mean of the bare view's req/s measured first and last at this size (the machine is shared)."""
    rates = [r["rps"] for name, r in at_size.items() if name.startswith("bare")]
    return sum(rates) / len(rates)


def _table(results: dict[int, dict[str, dict]], sizes: list[int]) -> str:
    names = list(next(iter(results.values())).keys())
    head = "| case | " + " | ".join(f"{s:,}: req/s · p50 / p99 ms" for s in sizes) + \
           f" | × bare at {sizes[-1]:,} | p50 {sizes[-1]:,} ÷ {sizes[0]:,} | size |"
    lines = [head, "|---" * (len(sizes) + 4) + "|"]
    for i, name in enumerate(names):
        cells = []
        for s in sizes:
            r = list(results[s].values())[i]
            cells.append(f"{r['rps']:,.0f} · {r['p50']} / {r['p99']}" + (f" ({r['failed']} failed)" if r["failed"] else ""))
        last, first = list(results[sizes[-1]].values())[i], list(results[sizes[0]].values())[i]
        bare = _bare(results[sizes[-1]])
        ratio = last["rps"] / bare if bare else 0
        growth = (last["p50"] or 0) / max(first["p50"] or 1, 1)
        yardstick = name.startswith("bare")
        mark_r = "" if yardstick else (" ✓" if ratio >= TARGET_RATIO else " ✗")
        mark_g = "" if yardstick else (" ✓" if growth <= TARGET_GROWTH or (last["p50"] or 0) <= 2 else " ✗")
        size = f"{last['bytes'] / 1024:,.1f} kB"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f}{mark_r} | {growth:.2f}{mark_g} | {size} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--db", default="shujiao_bench_catalog")
    ap.add_argument("--no-write", action="store_true", help="print the table, leave docs/benchmarks.md alone")
    ap.add_argument("--reuse", action="store_true", help="keep the database of an earlier run and only grow it")
    args = ap.parse_args(argv if argv is not None else sys.argv[1:])
    if not shutil.which("ab"):
        print("skipped: needs ApacheBench `ab` (apt-get install apache2-utils)")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop gunicorn on the way out (finally)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(20261202)
    if not (args.reuse and _psql(f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'").strip()):
        recreate_database(args.db)
    setup_django(args.db)
    results: dict[int, dict[str, dict]] = {}
    populate: dict[int, float] = {}
    loads: dict[int, tuple] = {}
    for size in sizes:
        print(f"growing the catalog to {size:,} published listings", flush=True)
        populate[size] = grow(size, rng)
        print(f"\n  done in {populate[size]:.1f} s", flush=True)
        subprocess.run(["redis-cli", "-n", REDIS_CACHE.rsplit("/", 1)[1], "FLUSHDB"], capture_output=True)
        proc = serve(args.db)
        load_before = os.getloadavg()
        try:
            results[size] = {}
            for name, path in cases(-(-size // 20)):
                r = measure(path, requests=args.requests, concurrency=args.concurrency)
                results[size][name] = r
                print(f"  {name:52} {r['rps']:8.1f} req/s  p50 {r['p50']} ms  p99 {r['p99']} ms  "
                      f"{r['bytes'] / 1024:.1f} kB  HTTP {r['status']}", flush=True)
        finally:
            stop(proc)
        loads[size] = (load_before, os.getloadavg())
    table = _table(results, sizes)
    print(table)
    grow_line = ", ".join(f"{s:,} in {populate[s]:.0f} s" for s in sizes)
    load_line = "; ".join(f"{s:,}: {' / '.join(f'{x:.1f}' for x in loads[s][0])} before, "
                          f"{' / '.join(f'{x:.1f}' for x in loads[s][1])} after" for s in sizes)
    text = f"""## Catalog at scale (`python -m bench.catalog_bench`)

PostgreSQL 15 (shared_buffers 128 MB), `gunicorn -w 2` with production settings (DEBUG off, Redis cache,
`CONN_MAX_AGE`), ApacheBench `-n {args.requests} -c {args.concurrency}` from the same machine after a warm-up; the
bare Django JSON view (same middleware) is the yardstick measured in the same run at each size. Catalog grown
with multi-row inserts, flat columns filled at insert (a sample checked against `listings_refresh_flat`), GIN search indexes
rebuilt once after the load ({grow_line}): 500 sellers, 1–3 offers a listing, a ~4 kB quality
report each, one paid contract per two listings. Machine: {machine()}.
Load average (1 / 5 / 15 min, `uptime`) while measuring each size — {load_line}. The machine was shared
with other engineers' tests and benchmarks (2 cores): compare the rows of one size, not figures across runs.

Targets: every case ≥ {TARGET_RATIO}× the bare view's req/s (column "× bare", against the mean of the two bare runs at that size), and p50 at {sizes[-1]:,} within
{TARGET_GROWTH}× of {sizes[0]:,} (column "p50 ÷"; a p50 of ≤ 2 ms counts as met, ab's resolution is 1 ms).
After the warm-up, public pages come from the page cache (`exchange/pagecache.py`, keyed on the URL and
checked against the catalog generation: one Redis `MGET` a request, no SQL). The row "with a session cookie"
renders the page frame on every request (the page cache skips visitors with a session: session lookup,
header, CSRF) around the catalog body, which is cached per URL and generation for every visitor. "size" is the response body at {sizes[-1]:,}.

{table}
"""
    if not args.no_write:
        write_section("catalog", text)
    json.dump({str(k): v for k, v in results.items()}, (ROOT / "bench" / "data" / "catalog-results.json").open("w"),
              ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
