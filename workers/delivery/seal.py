"""Encrypt a delivery package to age X25519 recipients while it is being written (pyrage).

:class:`SealedWriter` is a write-only file object: give it to ``build_package`` as ``out``
and the ZIP is encrypted as it is produced, in one pass. The plaintext package is never
written anywhere; only the age file reaches ``out`` (the caller keeps no key that opens it:
only holders of a matching identity do, ``age -d -i identity``).

Threads, so the work spreads over the cores (bench/fingerprint_bench.py, ``package+age``):

* the caller's thread builds the ZIP (source reads, CRC-32) and hands each chunk to a
  bounded channel, without copying it;
* ``age-encrypt`` runs ``pyrage.encrypt_io``, which reads the channel through a 1 MiB
  ``BufferedReader`` (pyrage asks for 8 KiB per read) and emits 64 KiB age chunks, batched
  by 1 MiB;
* ``age-out`` hashes the ciphertext (its SHA-256 is what the delivery records) and writes it
  to ``out``, 1 MiB at a time; hashlib and file writes release the GIL, which pyrage holds
  while it encrypts.

Memory stays bounded whatever the package's size: every channel holds a few chunks. The
first failure in any thread (a full disk, a pyrage error, the packager giving up) closes
every channel, so no thread waits forever, and is raised to the caller as it was raised;
the partial ``out`` is then the caller's to discard.
"""

from __future__ import annotations

import collections
import hashlib
import io
import threading
from typing import Any, BinaryIO

from .package import _HASH_QUEUE_DEPTH

MiB = 1 << 20
# Plaintext chunks in flight. ``build_package`` hands over memoryviews into its ring of
# ``_HASH_QUEUE_DEPTH + 2`` source buffers, safe while a consumer holds at most
# ``_HASH_QUEUE_DEPTH`` queued chunks plus the one it is reading: this channel's capacity.
PLAIN_DEPTH = _HASH_QUEUE_DEPTH
CIPHER_DEPTH = 4  # 1 MiB ciphertext batches queued for hashing and writing
BATCH = MiB
SMALL = 64 << 10  # writes below this (ZIP headers, small entries) are coalesced


class SealFailed(Exception):
    """A channel was closed because some thread of the sealer failed (internal)."""


_EOF = object()


class _Channel:
    """Bounded FIFO between two threads; ``fail`` wakes and stops both ends."""

    def __init__(self, capacity: int):
        self._items: collections.deque = collections.deque()
        self._capacity = capacity
        self._cond = threading.Condition(threading.Lock())
        self._failed = False

    def put(self, item: Any) -> None:
        with self._cond:
            while len(self._items) >= self._capacity and not self._failed:
                self._cond.wait()
            if self._failed:
                raise SealFailed
            self._items.append(item)
            self._cond.notify_all()

    def get(self) -> Any:
        with self._cond:
            while not self._items and not self._failed:
                self._cond.wait()
            if self._failed:
                raise SealFailed
            item = self._items.popleft()
            self._cond.notify_all()
            return item

    def fail(self) -> None:
        with self._cond:
            self._failed = True
            self._items.clear()
            self._cond.notify_all()


class _ChannelReader(io.RawIOBase):
    """The plaintext channel as a raw stream (wrapped in a BufferedReader for pyrage)."""

    def __init__(self, channel: _Channel):
        super().__init__()
        self._channel = channel
        self._chunk: memoryview | None = None
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while self._chunk is None or not self._chunk.nbytes:
            if self._eof:
                return 0
            item = self._channel.get()
            if item is _EOF:
                self._eof, self._chunk = True, None
                return 0
            self._chunk = memoryview(item).cast("B")
        n = min(len(b), self._chunk.nbytes)
        b[:n] = self._chunk[:n]
        self._chunk = self._chunk[n:]
        return n


class SealedWriter(io.RawIOBase):
    """Write-only, sequential: bytes written come out age-encrypted on ``out``.

    Use as a context manager, or call :meth:`finish` (returns the ciphertext's SHA-256 and
    size) or :meth:`abort`. A memoryview passed to :meth:`write` is kept, not copied: its
    bytes must stay unchanged until ``PLAIN_DEPTH + 1`` further writes (``build_package``'s
    source ring guarantees it); ``bytes`` are always safe.
    """

    def __init__(self, out: BinaryIO, recipients: list[str]):
        super().__init__()
        import pyrage

        if not recipients:
            raise ValueError("at least one age recipient is needed")
        parsed = [pyrage.x25519.Recipient.from_str(r) for r in recipients]
        self._out = out
        self.pos = 0  # plaintext bytes written
        self.size = 0  # ciphertext bytes produced
        self._pending = bytearray()
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._sha = hashlib.sha256()
        self._plain = _Channel(PLAIN_DEPTH)
        self._cipher = _Channel(CIPHER_DEPTH)
        self._error: BaseException | None = None
        self._error_lock = threading.Lock()
        self._finished = False
        self._threads = [
            threading.Thread(target=self._guard, args=(self._encrypt, pyrage, parsed), name="age-encrypt", daemon=True),
            threading.Thread(target=self._guard, args=(self._drain,), name="age-out", daemon=True),
        ]
        for t in self._threads:
            t.start()

    # --- the caller's side ----------------------------------------------------------
    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.pos

    def write(self, data: Any) -> int:
        view = memoryview(data)
        n = view.nbytes
        if n < SMALL:
            self._pending += view
            if len(self._pending) >= SMALL:
                self._hand_over(bytes(self._pending))
                self._pending.clear()
        else:
            if self._pending:
                self._hand_over(bytes(self._pending))
                self._pending.clear()
            self._hand_over(data if isinstance(data, bytes) else view)
        self.pos += n
        return n

    def _hand_over(self, item: Any) -> None:
        try:
            self._plain.put(item)
        except SealFailed:
            self._raise()

    def finish(self) -> tuple[str, int]:
        """End the age file; returns the ciphertext's SHA-256 (hex) and size."""
        if self._finished:
            raise ValueError("finish() called twice")
        if self._pending:
            self._hand_over(bytes(self._pending))
            self._pending.clear()
        self._hand_over(_EOF)
        self._threads[0].join()  # the encryptor sends the last batch and the end to both drains
        for t in self._threads[1:]:
            t.join()
        self._finished = True
        if self._error is not None:
            self._raise()
        self._out.flush()
        return self._sha.hexdigest(), self.size

    def abort(self) -> None:
        """Stop every thread; what reached ``out`` is partial and must be discarded."""
        self._fail(SealFailed("sealing aborted"))
        for t in self._threads:
            t.join()
        self._finished = True

    def __enter__(self) -> SealedWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._finished:
            self.abort()
        super().close()

    def close(self) -> None:
        if not self._finished:
            self.abort()
        super().close()

    def _raise(self) -> None:
        err = self._error
        if err is None or isinstance(err, SealFailed):
            raise SealFailed("sealing stopped")
        raise err

    # --- the threads -------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> None:
        with self._error_lock:
            if self._error is None:
                self._error = exc
        for ch in (self._plain, self._cipher):
            ch.fail()

    def _guard(self, target, *args: Any) -> None:
        try:
            target(*args)
        except SealFailed:
            self._fail(SealFailed("sealing stopped"))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self._fail(exc)

    def _encrypt(self, pyrage: Any, parsed: list) -> None:
        reader = io.BufferedReader(_ChannelReader(self._plain), MiB)
        try:
            pyrage.encrypt_io(reader, _CipherSink(self), parsed)
        except Exception:
            if self._error is not None:  # pyrage wraps what our reader/sink raised: keep the original
                raise SealFailed from None
            raise
        self._dispatch()
        self._cipher.put(_EOF)

    def _collect(self, data: bytes) -> None:
        self._batch.append(data)
        self._batch_bytes += len(data)
        self.size += len(data)
        if self._batch_bytes >= BATCH:
            self._dispatch()

    def _dispatch(self) -> None:
        if self._batch:
            batch, self._batch, self._batch_bytes = self._batch, [], 0
            self._cipher.put(batch)

    def _drain(self) -> None:
        # One 1 MiB block per hash and write: each releases the GIL, and each return has
        # to win it back from pyrage, which holds it while it encrypts.
        update, write, get = self._sha.update, self._out.write, self._cipher.get
        while (batch := get()) is not _EOF:
            data = b"".join(batch)
            update(data)
            write(data)


class _CipherSink:
    """pyrage's output: ciphertext chunks (bytes it made for us) collected into batches."""

    def __init__(self, sealer: SealedWriter):
        self._collect = sealer._collect

    def write(self, data: bytes) -> int:
        self._collect(data)
        return len(data)

    def flush(self) -> None:
        pass

