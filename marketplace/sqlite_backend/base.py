"""SQLite for the embedded default: Django's backend plus one writer at a time per process.

A SQLite file has one writer at a time anyway. Without this, the web server's threads that
wait for the write lock poll it from SQLite's busy handler (sleeping up to 100 ms between
tries), so under load the lock sits idle between holders and waits pile up to the busy
timeout ("database is locked"). Here a thread that starts a transaction (``BEGIN
IMMEDIATE``) first takes a process-wide lock, handed to the next waiter the moment the
holder commits or rolls back; SQLite's busy timeout is left to arbitrate between processes
(web and worker). Waiting for the process lock is bounded by ``SQLITE_WRITE_LOCK_TIMEOUT``.

A write outside a transaction (autocommit: Django's ``save()`` of one row without parents,
e.g. ``update_last_login`` at every login, or an ``on_commit`` hook's UPDATE) is its own
implicit transaction: it takes the same process lock for the statement, so it queues with the
others instead of polling SQLite's busy handler while the threads in line hand the lock round.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import OperationalError
from django.db.backends.sqlite3 import base

_WRITE_LOCK = threading.Lock()
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _acquire_write_lock() -> None:
    wait = float(getattr(settings, "SQLITE_WRITE_LOCK_TIMEOUT", 30.0))
    if not _WRITE_LOCK.acquire(timeout=wait):
        raise OperationalError(f"database is locked (waited {wait:g} s for this process's other writers)")


def _is_write(query: str) -> bool:
    return query.lstrip()[:7].upper().startswith(_WRITE_VERBS)


class _Cursor(base.SQLiteCursorWrapper):
    """Autocommit writes (no transaction open on this connection) hold the process lock."""

    def execute(self, query, params=None):
        if self.connection.in_transaction or not _is_write(query):
            return super().execute(query, params)
        _acquire_write_lock()
        try:
            return super().execute(query, params)
        finally:
            _WRITE_LOCK.release()

    def executemany(self, query, param_list):
        if self.connection.in_transaction or not _is_write(query):
            return super().executemany(query, param_list)
        _acquire_write_lock()
        try:
            return super().executemany(query, param_list)
        finally:
            _WRITE_LOCK.release()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=_Cursor)

    def _start_transaction_under_autocommit(self):
        _acquire_write_lock()
        self._holds_write_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            _WRITE_LOCK.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_write_lock()
