"""The embedded default's SQLite backend: every writer of a process queues on one lock.

Each thread below gets its own connection to one SQLite file whose busy timeout is 0, so a
write that reached SQLite while another thread held the write lock would fail at once with
"database is locked". Only the process lock (marketplace/sqlite_backend) keeps them apart.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db.utils import ConnectionHandler

from marketplace.sqlite_backend import base as backend

pytestmark = pytest.mark.timeout(180)


def _handler(path) -> ConnectionHandler:
    return ConnectionHandler({"default": {
        "ENGINE": "marketplace.sqlite_backend", "NAME": str(path),
        "OPTIONS": {"timeout": 0, "transaction_mode": "IMMEDIATE"}}})


@pytest.fixture
def db_file(tmp_path, django_db_blocker):
    """A SQLite file of its own (not the test database)."""
    with django_db_blocker.unblock():
        yield _make(tmp_path)


def _make(tmp_path):
    path = tmp_path / "lock.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")  # persistent: the file stays in WAL mode
        conn.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        conn.execute("CREATE TABLE row (id INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT NOT NULL)")
        conn.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
    return path


class _RecordingLock:
    """Wraps the process lock to count acquisitions (the same semantics otherwise)."""

    def __init__(self, lock):
        self.lock, self.acquired = lock, 0

    def acquire(self, *args, **kwargs):
        got = self.lock.acquire(*args, **kwargs)
        self.acquired += bool(got)
        return got

    def release(self):
        self.lock.release()

    def locked(self):
        return self.lock.locked()


def test_an_autocommit_write_takes_the_process_lock_and_a_read_does_not(db_file, monkeypatch):
    recording = _RecordingLock(backend._WRITE_LOCK)
    monkeypatch.setattr(backend, "_WRITE_LOCK", recording)
    conn = _handler(db_file)["default"]
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT n FROM counter WHERE id = 1")
            assert cursor.fetchone() == (0,)
            assert recording.acquired == 0
            cursor.execute("UPDATE counter SET n = n + 1 WHERE id = %s", [1])
            assert recording.acquired == 1 and not recording.locked()  # held for the statement only
            cursor.executemany("INSERT INTO row (who) VALUES (%s)", [["a"], ["b"]])
            assert recording.acquired == 2 and not recording.locked()
    finally:
        conn.close()
    with sqlite3.connect(db_file) as check:
        assert check.execute("SELECT n FROM counter").fetchone() == (1,)
        assert check.execute("SELECT count(*) FROM row").fetchone() == (2,)


def test_threads_mixing_transactions_and_autocommit_writes_never_see_database_is_locked(db_file):
    """Before autocommit writes took the lock, one of them reaching SQLite while another thread's
    transaction held the file failed at once (busy timeout 0)."""
    handler = _handler(db_file)  # connections are per thread
    errors: list[str] = []
    threads_n, rounds = 8, 25
    start = threading.Barrier(threads_n, timeout=30)

    def work(who: int):
        conn = handler["default"]
        try:
            conn.ensure_connection()
            start.wait()
            for i in range(rounds):
                if (who + i) % 2:
                    conn._start_transaction_under_autocommit()  # what transaction.atomic() does first
                    try:
                        with conn.cursor() as cursor:
                            cursor.execute("SELECT n FROM counter WHERE id = 1")
                            n = cursor.fetchone()[0]
                            cursor.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
                            cursor.execute("INSERT INTO row (who) VALUES (%s)", [f"t{who}"])
                        conn.commit()
                    except Exception:
                        conn.rollback()
                        raise
                else:
                    with conn.cursor() as cursor:  # autocommit: each statement its own transaction
                        cursor.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
                        cursor.execute("INSERT INTO row (who) VALUES (%s)", [f"a{who}"])
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    with sqlite3.connect(db_file) as check:
        # every increment landed: read-modify-write under the lock loses none
        assert check.execute("SELECT n FROM counter").fetchone() == (threads_n * rounds,)
        assert check.execute("SELECT count(*) FROM row").fetchone() == (threads_n * rounds,)


RACE = """
import json, threading
from collections import Counter
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.models import Min
from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import Contract, LedgerEntry, Organization
from exchange.services import ledger, orgs
from exchange.services import trading as svc
from exchange.validators import credit_code_check_character as check
from tests.trading.conftest import PURPOSE, build_listing

assert connection.vendor == "sqlite" and type(connections["default"]).__module__ == "marketplace.sqlite_backend.base"

def firm(i):
    code = f"9134010{i:02d}MA2N{i:04d}"[:17].ljust(17, "0")
    org = orgs.organization_register(actor=Actor.system("test"), name=f"Firm {i}", credit_code=code + check(code),
                                     city="Hefei", username=f"race{i}", email=f"r{i}@example.com",
                                     password="a-Long-enough-pass-2026")
    Organization.objects.filter(pk=org.pk).update(verification_status=Organization.Status.VERIFIED)
    org.refresh_from_db()
    return org

sellers = [firm(i) for i in range(5)]
buyer = firm(9)
offers = [build_listing(sellers[i % 5], price_fen=1000, access_mode="instant") for i in range(50)]
staff = get_user_model().objects.create_user("treasury", is_staff=True)
svc.wallet_topup(actor=Actor(type="staff", user=staff), organization=buyer, amount_fen=10000, memo="bank transfer")
actor = Actor(type="user", user=buyer.memberships.first().user, organization=buyer)
barrier = threading.Barrier(50)
outcomes = [None] * 50

def buy(i):
    try:
        barrier.wait(timeout=30)
        outcomes[i] = svc.access_request_create(actor=actor, offer=offers[i], purpose=PURPOSE).status
    except DomainError as exc:
        outcomes[i] = exc.code
    except Exception as exc:
        outcomes[i] = f"{type(exc).__name__}: {exc}"
    finally:
        connections.close_all()

threads = [threading.Thread(target=buy, args=(i,)) for i in range(50)]
for t in threads: t.start()
for t in threads: t.join(timeout=120)
wallet = ledger.wallet_of(buyer)
print("RESULT" + json.dumps({
    "outcomes": dict(Counter(str(o) for o in outcomes)),
    "contracts": dict(Counter(Contract.objects.filter(buyer=buyer).values_list("status", flat=True))),
    "balance": wallet.balance, "escrow": ledger.system_account("escrow").balance,
    "lowest": LedgerEntry.objects.filter(account=wallet).aggregate(m=Min("balance_after"))["m"],
    "ledger_problem": str(ledger.ledger_verify()) if ledger.ledger_verify() is not None else None}))
"""


def test_fifty_concurrent_instant_purchases_on_the_embedded_sqlite_backend(tmp_path):
    """The money race of tests/trading/test_race.py on the embedded default's SQLite (one process,
    50 threads, the short purchase transaction): exactly ten paid, never below zero, no lock error."""
    import json

    from tests.integration.test_embedded_default import _env, _manage

    env = {**_env(tmp_path / "var"), "SQLITE_BUSY_TIMEOUT": "5"}
    _manage(env, "migrate", "--noinput", "-v0")
    out = _manage(env, "shell", "--no-imports", "-c", RACE)
    result = json.loads(out.split("RESULT", 1)[1])
    assert result["outcomes"] == {"approved": 50}, result  # all requests approved; 40 await payment
    assert result["contracts"] == {"paid": 10, "awaiting_payment": 40}
    assert (result["balance"], result["escrow"], result["lowest"]) == (0, 10000, 0)
    assert result["ledger_problem"] is None
