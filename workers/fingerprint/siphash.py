"""SipHash-2-4 (Aumasson & Bernstein, 2012), the keyed PRF of scheme ``shujiao-parity/2``.

Written from the paper: a 128-bit key ``k0 || k1`` (little-endian words), four state words,
two SipRounds per 8-byte message word, four in finalisation. The 128-bit variant (``v1 ^=
0xee`` at the start, ``v2 ^= 0xee`` before finalisation, then ``v1 ^= 0xdd`` and four more
rounds for the second word) gives the 16-byte row digest; the 64-bit one gives the bits a
contract writes. A short row key costs about a tenth of a BLAKE2b compression, which is what
lets the marker choose rows at the speed of plain packaging.

``sip64`` and ``sip128`` are plain Python (the reference, and the fallback without numba);
``words128`` and ``words64`` hash many messages of one byte buffer in one compiled call and
give the same results (tests/workers/test_fingerprint_siphash.py checks the paper's vectors).
"""

from __future__ import annotations

import numpy as np

from .batch import AVAILABLE, _jit, _jit_inline

M64 = (1 << 64) - 1
C0, C1, C2, C3 = 0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & M64


def _rounds(v0: int, v1: int, v2: int, v3: int, n: int) -> tuple[int, int, int, int]:
    for _ in range(n):
        v0 = (v0 + v1) & M64
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & M64
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & M64
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & M64
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def key_words(key: bytes) -> tuple[int, int]:
    if len(key) != 16:
        raise ValueError("a SipHash key is 16 bytes")
    return int.from_bytes(key[:8], "little"), int.from_bytes(key[8:], "little")


def _absorb(k0: int, k1: int, message: bytes, wide: bool) -> tuple[int, int, int, int]:
    v0, v1, v2, v3 = k0 ^ C0, k1 ^ C1, k0 ^ C2, k1 ^ C3
    if wide:
        v1 ^= 0xEE
    n = len(message)
    full = n - n % 8
    for i in range(0, full, 8):
        m = int.from_bytes(message[i:i + 8], "little")
        v3 ^= m
        v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
        v0 ^= m
    b = ((n & 0xFF) << 56) | int.from_bytes(message[full:], "little")
    v3 ^= b
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= b
    v2 ^= 0xEE if wide else 0xFF
    return _rounds(v0, v1, v2, v3, 4)


def sip64(key: bytes, message: bytes) -> int:
    """SipHash-2-4 of ``message``: the 64-bit output word."""
    v0, v1, v2, v3 = _absorb(*key_words(key), message, False)
    return v0 ^ v1 ^ v2 ^ v3


def sip128(key: bytes, message: bytes) -> bytes:
    """SipHash-2-4-128 of ``message``: its 16 output bytes (two little-endian words)."""
    v0, v1, v2, v3 = _absorb(*key_words(key), message, True)
    first = v0 ^ v1 ^ v2 ^ v3
    v1 ^= 0xDD
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    return first.to_bytes(8, "little") + (v0 ^ v1 ^ v2 ^ v3).to_bytes(8, "little")


# --- compiled -------------------------------------------------------------------------
@_jit_inline
def _rotl_c(x, b):  # pragma: no cover - compiled
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


@_jit_inline
def _round_c(v0, v1, v2, v3):  # pragma: no cover - compiled
    v0 += v1
    v1 = _rotl_c(v1, 13) ^ v0
    v0 = _rotl_c(v0, 32)
    v2 += v3
    v3 = _rotl_c(v3, 16) ^ v2
    v0 += v3
    v3 = _rotl_c(v3, 21) ^ v0
    v2 += v1
    v1 = _rotl_c(v1, 17) ^ v2
    v2 = _rotl_c(v2, 32)
    return v0, v1, v2, v3


@_jit_inline
def absorb(k0, k1, data, s, e, wide):  # pragma: no cover - compiled
    """The state after the message ``data[s:e]`` and the first finalisation rounds: its XOR is
    the (first) output word; ``second`` continues it for the 128-bit variant."""
    v0 = k0 ^ np.uint64(C0)
    v1 = k1 ^ np.uint64(C1)
    v2 = k0 ^ np.uint64(C2)
    v3 = k1 ^ np.uint64(C3)
    if wide:
        v1 ^= np.uint64(0xEE)
    n = e - s
    full = s + n - n % 8
    p = s
    while p < full:
        m = np.uint64(0)
        for k in range(8):
            m |= np.uint64(data[p + k]) << np.uint64(8 * k)
        v3 ^= m
        v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
        v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
        v0 ^= m
        p += 8
    b = np.uint64(n & 0xFF) << np.uint64(56)
    for k in range(e - full):
        b |= np.uint64(data[full + k]) << np.uint64(8 * k)
    v3 ^= b
    v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
    v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= np.uint64(0xEE) if wide else np.uint64(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
    return v0, v1, v2, v3


@_jit_inline
def second(v0, v1, v2, v3):  # pragma: no cover - compiled
    v1 ^= np.uint64(0xDD)
    for _ in range(4):
        v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


@_jit_inline
def bits_word(b0, b1, w0, w1, block):  # pragma: no cover - compiled
    """SipHash-2-4(bits key, digest || byte ``block``): the 17-byte message's words are the
    digest's two words, then the final block (length 17 in the top byte)."""
    v0 = b0 ^ np.uint64(0x736F6D6570736575)
    v1 = b1 ^ np.uint64(0x646F72616E646F6D)
    v2 = b0 ^ np.uint64(0x6C7967656E657261)
    v3 = b1 ^ np.uint64(0x7465646279746573)
    last = (np.uint64(17) << np.uint64(56)) | np.uint64(block)
    for m in (w0, w1, last):
        v3 ^= m
        v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
        v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
        v0 ^= m
    v2 ^= np.uint64(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _round_c(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


@_jit
def _bits_words(b0, b1, w0, w1, out):  # pragma: no cover - compiled
    for b in range(len(out)):
        out[b] = bits_word(b0, b1, w0, w1, b)


def bits_of_digest(b0, b1, digest: bytes, blocks: int) -> int:
    """keys.row_bits_v2 for one digest under the bits key's words ``b0, b1``, ``blocks`` words."""
    w0, w1 = np.frombuffer(digest, dtype="<u8")
    out = np.empty(blocks, dtype=np.uint64)
    _bits_words(b0, b1, w0, w1, out)
    return int.from_bytes(out.astype("<u8").tobytes(), "little")


@_jit
def _words128(k0, k1, data, starts, ends, out):  # pragma: no cover - compiled
    for i in range(len(starts)):
        v0, v1, v2, v3 = absorb(k0, k1, data, starts[i], ends[i], True)
        out[i, 0] = v0 ^ v1 ^ v2 ^ v3
        out[i, 1] = second(v0, v1, v2, v3)


@_jit
def _words64(k0, k1, data, starts, ends, out):  # pragma: no cover - compiled
    for i in range(len(starts)):
        v0, v1, v2, v3 = absorb(k0, k1, data, starts[i], ends[i], False)
        out[i] = v0 ^ v1 ^ v2 ^ v3


def words128(key: bytes, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(N, 2) uint64: ``sip128`` of every ``data[starts[i]:ends[i]]`` as its two output words."""
    out = np.empty((len(starts), 2), dtype=np.uint64)
    if AVAILABLE:
        k0, k1 = key_words(key)
        _words128(np.uint64(k0), np.uint64(k1), data, starts, ends, out)
        return out
    raw = bytes(data)
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        out[i] = np.frombuffer(sip128(key, raw[s:e]), dtype="<u8")
    return out


def words64(key: bytes, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(N,) uint64: ``sip64`` of every ``data[starts[i]:ends[i]]``."""
    out = np.empty(len(starts), dtype=np.uint64)
    if AVAILABLE:
        k0, k1 = key_words(key)
        _words64(np.uint64(k0), np.uint64(k1), data, starts, ends, out)
        return out
    raw = bytes(data)
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        out[i] = sip64(key, raw[s:e])
    return out


@_jit
def _one128(k0, k1, data, n, out):  # pragma: no cover - compiled
    v0, v1, v2, v3 = absorb(k0, k1, data, 0, n, True)
    out[0] = v0 ^ v1 ^ v2 ^ v3
    out[1] = second(v0, v1, v2, v3)


def one128(k0, k1, data: np.ndarray, n: int) -> np.ndarray:
    """The two little-endian output words of ``sip128`` over ``data[:n]`` (one compiled call)."""
    out = np.empty(2, dtype="<u8")
    _one128(k0, k1, data, n, out)
    return out


class SipHasher:
    """batch.Hasher's interface for scheme /2: row digests (``sip128`` under the selection key's
    SipHash key) of many row keys at once."""

    def __init__(self, selection: bytes):
        from .keys import sip_key

        self.key = sip_key(selection, b"sel")

    def words(self, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        return words128(self.key, data, starts, ends)

    def one(self, message: bytes) -> bytes:
        return sip128(self.key, message)


def low_bits(contract: bytes, digests: list[bytes]) -> np.ndarray:
    """keys.row_bits_v2(contract, d) & (2**64 - 1) for many 16-byte digests: word 0 of each."""
    from .keys import sip_key

    data = np.frombuffer(b"".join(d + b"\0" for d in digests) or b"\0", dtype=np.uint8)
    starts = np.arange(len(digests), dtype=np.int64) * 17
    return words64(sip_key(contract, b"bit"), data, starts, starts + 16 + 1)
