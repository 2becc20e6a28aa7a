"""Audit transparency log: append cost of the stored tree, proof sizes and proof times.

Pure part (no database): ``python -m bench.tlog_bench``. The database part runs with
``--db`` inside Django (``DJANGO_SETTINGS_MODULE`` and ``DATABASE_URL`` as for manage.py)
and times ``audit_record`` with and without the tree append.
"""

from __future__ import annotations

import sys
import time

from workers import tlog


def pure(n: int = 100_000) -> None:
    nodes: dict = {}
    t0 = time.perf_counter()
    for i in range(n):
        for level, idx, h in tlog.nodes_to_store(i, tlog.leaf_hash(i.to_bytes(8, "big")), lambda lv, ix: nodes[(lv, ix)]):
            nodes[(level, idx)] = h
    append = time.perf_counter() - t0
    def get(level, index):
        return nodes[(level, index)]

    t0 = time.perf_counter()
    for i in range(0, n, n // 1000):
        tlog.inclusion_proof(i, n, get)
    inc = (time.perf_counter() - t0) / 1000
    t0 = time.perf_counter()
    for m in range(1, n, n // 1000):
        tlog.consistency_proof(m, n, get)
    con = (time.perf_counter() - t0) / 1000
    print(f"pure: {n} leaves appended in {append:.2f}s ({append / n * 1e6:.1f} us/leaf), {len(nodes)} nodes stored "
          f"({len(nodes) / n:.2f}/leaf); inclusion proof {inc * 1e6:.0f} us, consistency proof {con * 1e6:.0f} us; "
          f"proof length at {n}: {len(tlog.inclusion_proof(n // 3, n, get))} hashes")


def db(n: int = 2000) -> None:
    import django

    django.setup()
    from django.db import connection, transaction

    from exchange.actor import Actor
    from exchange.services import audit, transparency

    def run(label: str) -> float:
        t0 = time.perf_counter()
        for i in range(n):
            with transaction.atomic():
                audit.audit_record(actor=Actor.system("bench"), action="bench.event", details={"i": i})
        dt = time.perf_counter() - t0
        print(f"db ({connection.vendor}): {label}: {n} events in {dt:.2f}s ({dt / n * 1e3:.2f} ms/event)")
        return dt

    with_tree = run("chain + tree")
    t0 = time.perf_counter()
    size = transparency.tree_size()
    for i in range(100):
        transparency.consistency_proof(old_size=size // 2 + i, new_size=size)
    proof_ms = (time.perf_counter() - t0) / 100 * 1e3
    print(f"consistency proof from the database at size {size}: {proof_ms:.2f} ms")
    real = audit.tree_append
    audit.tree_append = lambda event: None  # last: the events appended now have no leaves
    try:
        without = run("chain only")
    finally:
        audit.tree_append = real
    print(f"tree overhead: {(with_tree - without) / n * 1e3:.2f} ms/event")

if __name__ == "__main__":
    db() if "--db" in sys.argv else pure()
