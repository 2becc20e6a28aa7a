"""Encrypt a finished package to age X25519 recipients (pyrage, streaming).

Only holders of a matching identity open the result (``age -d -i identity``); the
caller keeps no plaintext. Memory stays bounded: pyrage reads and writes in chunks.
"""

from __future__ import annotations

import hashlib
from typing import Any, BinaryIO


class _HashingWriter:
    def __init__(self, out: BinaryIO):
        self._out, self.sha, self.size = out, hashlib.sha256(), 0

    def write(self, data: Any) -> int:
        self._out.write(data)
        self.sha.update(data)
        n = memoryview(data).nbytes
        self.size += n
        return n

    def flush(self) -> None:
        self._out.flush()


def encrypt_to_recipients(plain: BinaryIO, out: BinaryIO, recipients: list[str]) -> tuple[str, int]:
    """Stream ``plain`` as an age file to ``out``; returns the ciphertext's SHA-256 and size."""
    import pyrage

    if not recipients:
        raise ValueError("at least one age recipient is needed")
    parsed = [pyrage.x25519.Recipient.from_str(r) for r in recipients]
    writer = _HashingWriter(out)
    pyrage.encrypt_io(plain, writer, parsed)
    writer.flush()
    return writer.sha.hexdigest(), writer.size
