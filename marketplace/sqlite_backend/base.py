"""SQLite for the embedded default: Django's backend plus one writer at a time per process.

A SQLite file has one writer at a time anyway. Without this, the web server's threads that
wait for the write lock poll it from SQLite's busy handler (sleeping up to 100 ms between
tries), so under load the lock sits idle between holders and waits pile up to the busy
timeout ("database is locked"). Here a thread that starts a transaction (``BEGIN
IMMEDIATE``) first takes a process-wide lock, handed to the next waiter the moment the
holder commits or rolls back; SQLite's busy timeout is left to arbitrate between processes
(web and worker). Waiting for the process lock is bounded by ``SQLITE_WRITE_LOCK_TIMEOUT``.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import OperationalError
from django.db.backends.sqlite3 import base

_WRITE_LOCK = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

    def _start_transaction_under_autocommit(self):
        wait = float(getattr(settings, "SQLITE_WRITE_LOCK_TIMEOUT", 30.0))
        if not _WRITE_LOCK.acquire(timeout=wait):
            raise OperationalError(f"database is locked (waited {wait:g} s for this process's other writers)")
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
