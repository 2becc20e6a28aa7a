"""Batch kernel of the scheme: keyed BLAKE2b over many row keys.

The scheme is unchanged: a row's selection digest is still ``BLAKE2b(key=selection key,
digest_size=16)`` of its key (keys.row_digest). Only the way it is computed changes:
``hashlib`` costs a Python call per row (about 0.4 µs, more than plain packaging spends per
row), so many rows are hashed at once by a BLAKE2b compression written from RFC 7693 and
compiled with numba. Every result is the same bytes ``hashlib`` gives (tests compare them);
without numba the same functions fall back to a ``hashlib`` loop.

Row keys come as one byte buffer with ``starts``/``ends`` offsets (a CSV block's key cells,
or an Arrow string array's data and offsets), so no Python string is made per row. The
compiled scans of CSV lines are in scan.py.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np

try:  # numba compiles the kernels; the fallback below gives the same results, slower
    import numba
except ImportError:  # pragma: no cover - exercised when numba is absent
    numba = None
if sys.byteorder != "little":  # pragma: no cover - the kernels read message words little-endian
    numba = None

IV = np.array([0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
               0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179], dtype=np.uint64)
SIGMA = np.array([
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3]], dtype=np.int64)

def _jit(fn):
    return numba.njit(cache=True, nogil=True)(fn) if numba is not None else fn


def _jit_inline(fn):
    return numba.njit(inline="always", cache=True)(fn) if numba is not None else fn


@_jit_inline
def _rotr(x, n):  # pragma: no cover - compiled
    return (x >> np.uint64(n)) | (x << np.uint64(64 - n))


@_jit_inline
def _g(a, b, c, d, x, y):  # pragma: no cover - compiled
    a = a + b + x
    d = _rotr(d ^ a, 32)
    c = c + d
    b = _rotr(b ^ c, 24)
    a = a + b + y
    d = _rotr(d ^ a, 16)
    c = c + d
    b = _rotr(b ^ c, 63)
    return a, b, c, d


@_jit
def _compress(h, block, t, last, iv, sigma):  # pragma: no cover - compiled
    """RFC 7693 F: one 128-byte block into the state ``h`` (the 16 words kept in locals)."""
    m = block.view(np.uint64)  # little-endian words (x86-64, aarch64: checked at import)
    v0, v1, v2, v3, v4, v5, v6, v7 = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    v8, v9, v10, v11, v13, v15 = iv[0], iv[1], iv[2], iv[3], iv[5], iv[7]
    v12 = iv[4] ^ np.uint64(t)
    v14 = iv[6] ^ np.uint64(0xFFFFFFFFFFFFFFFF) if last else iv[6]
    for r in range(12):
        s = sigma[r]
        v0, v4, v8, v12 = _g(v0, v4, v8, v12, m[s[0]], m[s[1]])
        v1, v5, v9, v13 = _g(v1, v5, v9, v13, m[s[2]], m[s[3]])
        v2, v6, v10, v14 = _g(v2, v6, v10, v14, m[s[4]], m[s[5]])
        v3, v7, v11, v15 = _g(v3, v7, v11, v15, m[s[6]], m[s[7]])
        v0, v5, v10, v15 = _g(v0, v5, v10, v15, m[s[8]], m[s[9]])
        v1, v6, v11, v12 = _g(v1, v6, v11, v12, m[s[10]], m[s[11]])
        v2, v7, v8, v13 = _g(v2, v7, v8, v13, m[s[12]], m[s[13]])
        v3, v4, v9, v14 = _g(v3, v4, v9, v14, m[s[14]], m[s[15]])
    h[0] ^= v0 ^ v8
    h[1] ^= v1 ^ v9
    h[2] ^= v2 ^ v10
    h[3] ^= v3 ^ v11
    h[4] ^= v4 ^ v12
    h[5] ^= v5 ^ v13
    h[6] ^= v6 ^ v14
    h[7] ^= v7 ^ v15


@_jit
def _keyed_state(key, outlen, iv, sigma):  # pragma: no cover - compiled
    """The state after the key block (not final): the start of every message hashed with this key."""
    h = iv.copy()
    h[0] ^= np.uint64(0x01010000) ^ (np.uint64(len(key)) << np.uint64(8)) ^ np.uint64(outlen)
    block = np.zeros(128, dtype=np.uint8)
    block[:len(key)] = key
    _compress(h, block, 128, False, iv, sigma)
    return h


@_jit
def _digests(state, data, starts, ends, out, iv, sigma, word):  # pragma: no cover - compiled
    """out[i] = words ``word`` and ``word + 1`` of BLAKE2b(data[starts[i]:ends[i]]) from the keyed
    ``state`` (messages of one byte or more; an empty message is hashed by the caller)."""
    h = np.empty(8, dtype=np.uint64)
    block = np.empty(128, dtype=np.uint8)
    for i in range(len(starts)):
        s, e = starts[i], ends[i]
        for k in range(8):
            h[k] = state[k]
        t = 128
        while True:
            n = min(128, e - s)
            t += n
            last = s + n >= e
            block[:n] = data[s:s + n]
            block[n:] = 0
            _compress(h, block, t, last, iv, sigma)
            s += n
            if last:
                break
        out[i, 0] = h[word]
        out[i, 1] = h[word + 1]


class Hasher:
    """Selection digests of many row keys under one key (``digest_size`` 16 as keys.row_digest)."""

    def __init__(self, key: bytes, digest_size: int = 16):
        self.key, self.digest_size = key, digest_size
        self._base = hashlib.blake2b(key=key, digest_size=digest_size)
        self.state = None
        if numba is not None:
            self.state = _keyed_state(np.frombuffer(key, dtype=np.uint8), digest_size, IV, SIGMA)

    def words(self, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """(N, 2) uint64: the digest's first 16 bytes as two little-endian words per message."""
        out = np.empty((len(starts), 2), dtype=np.uint64)
        empty = starts >= ends
        if self.state is not None:
            todo = ~empty
            if todo.all():
                _digests(self.state, data, starts, ends, out, IV, SIGMA, 0)
            else:
                part = np.empty((int(todo.sum()), 2), dtype=np.uint64)
                _digests(self.state, data, starts[todo], ends[todo], part, IV, SIGMA, 0)
                out[todo] = part
            loop = np.flatnonzero(empty)
        else:
            loop = range(len(starts))
        raw = data.tobytes() if len(loop) and not isinstance(data, bytes) else data
        for i in loop:
            h = self._base.copy()
            h.update(raw[starts[i]:ends[i]])
            out[i] = np.frombuffer(h.digest()[:16].ljust(16, b"\0"), dtype="<u8")
        return out

    def low_bits(self, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """keys.row_bits(key, message) & (2**64 - 1) for many non-empty messages (a 64-byte
        digest read as a big-endian integer: its low 64 bits are the last word, byte-swapped)."""
        out = np.empty((len(starts), 2), dtype=np.uint64)
        _digests(self.state, data, starts, ends, out, IV, SIGMA, 6)
        return out[:, 1].byteswap()

    def one(self, message: bytes) -> bytes:
        h = self._base.copy()
        h.update(message)
        return h.digest()


def digest_bytes(words: np.ndarray) -> bytes:
    """The 16 digest bytes of one row of ``Hasher.words``."""
    return words.astype("<u8").tobytes()


def selected_mask(words: np.ndarray, limit: int) -> np.ndarray:
    """keys.is_selected for every row: the digest's first 8 bytes, big-endian, below ``limit``."""
    if limit >= 1 << 64:
        return np.ones(len(words), dtype=bool)
    return words[:, 0].byteswap() < np.uint64(limit)


AVAILABLE = numba is not None


def hasher_for(scheme: str, selection: bytes):
    """The batch hasher of row digests for ``scheme`` (Hasher: /1, BLAKE2b; siphash.SipHasher: /2)."""
    from .keys import V1, V2

    if scheme == V1:
        return Hasher(selection)
    if scheme == V2:
        from .siphash import SipHasher

        return SipHasher(selection)
    raise ValueError(f"unknown fingerprint scheme {scheme!r}")
