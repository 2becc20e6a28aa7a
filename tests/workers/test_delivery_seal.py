"""Sealing a package with age while it is built (workers.delivery.seal.SealedWriter)."""

import errno
import hashlib
import io
import os
import threading
import zipfile

import pyrage
import pytest

from tests.workers.test_delivery_support import BEFORE_EXPIRY, build, seeded_key
from workers.delivery import SourceIntegrityError, key_id, verify_package
from workers.delivery.seal import SealedWriter

IDENTITY = pyrage.x25519.Identity.generate()
RECIPIENT = str(IDENTITY.to_public())


def _sealer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("age-")]


def _seal_build(data: bytes, out: io.BytesIO, **kwargs):
    with SealedWriter(out, [RECIPIENT]) as sealed:
        result, _ = build(data=data, out=sealed, **kwargs)
        digest, size = sealed.finish()
    return result, digest, size


@pytest.mark.parametrize(("size", "chunk_size", "deflate"), [
    (3 << 20, 1 << 16, False),  # 48 chunks kept by reference, through the source ring of 10 buffers
    (5 << 20, 1 << 20, False),
    (1_004_000, 4096, False),  # small writes, coalesced
    (2 << 20, 1 << 18, True),  # deflated: the compressor's output, of every size
])
def test_the_sealed_package_decrypts_to_a_package_that_verifies(size, chunk_size, deflate):
    data = os.urandom(size // 2) + bytes(range(256)) * (size // 512)
    out = io.BytesIO()
    result, digest, cipher_size = _seal_build(data, out, chunk_size=chunk_size, deflate=deflate)
    sealed = out.getvalue()
    assert sealed.startswith(b"age-encryption.org/v1\n")
    assert (digest, cipher_size) == (hashlib.sha256(sealed).hexdigest(), len(sealed))
    plain = pyrage.decrypt(sealed, [IDENTITY])
    assert len(plain) == result.package_size
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        assert zf.read("data/reviews.csv") == data
    check = verify_package(io.BytesIO(plain), public_keys={key_id(seeded_key()): seeded_key().public_key()},
                           now=BEFORE_EXPIRY)
    assert check.ok, check.checks
    _, unsealed = build(data=data, chunk_size=chunk_size, deflate=deflate)
    assert plain == unsealed  # sealing changes nothing inside
    assert _sealer_threads() == []


def test_a_different_identity_cannot_open_it():
    out = io.BytesIO()
    _seal_build(b"id\n1\n", out)
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(out.getvalue(), [pyrage.x25519.Identity.generate()])


class _DiskFull(io.RawIOBase):
    """Accepts ``room`` bytes, then fails as a full disk does."""

    def __init__(self, room: int):
        super().__init__()
        self.room, self.written = room, 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        n = memoryview(data).nbytes
        if self.written + n > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written += n
        return n


def test_a_failing_output_fails_the_build_with_its_own_error_and_stops_every_thread():
    data = os.urandom(6 << 20)
    with pytest.raises(OSError, match="No space left on device") as err:
        with SealedWriter(_DiskFull(2 << 20), [RECIPIENT]) as sealed:
            build(data=data, out=sealed, chunk_size=1 << 20)
            sealed.finish()
    assert err.value.errno == errno.ENOSPC
    assert _sealer_threads() == []


def test_the_packager_failing_mid_stream_stops_the_sealer():
    data = os.urandom(4 << 20)
    out = io.BytesIO()
    with pytest.raises(SourceIntegrityError):
        with SealedWriter(out, [RECIPIENT]) as sealed:
            build(data=data, out=sealed, expected_sha256="0" * 64, chunk_size=1 << 20)
            sealed.finish()
    assert _sealer_threads() == []
    with pytest.raises(pyrage.DecryptError):  # what reached ``out`` is no complete age file
        pyrage.decrypt(out.getvalue(), [IDENTITY])


def test_writing_after_the_sealer_failed_raises_the_first_error():
    sealer = SealedWriter(_DiskFull(0), [RECIPIENT])
    try:
        with pytest.raises(OSError, match="No space left"):
            for _ in range(64):  # the first ciphertext batch fails; a later write or finish() reports it
                sealer.write(bytes(1 << 20))
            sealer.finish()
    finally:
        sealer.close()
    assert _sealer_threads() == []


@pytest.mark.parametrize(("recipients", "error"), [([], ValueError), (["age1nope"], pyrage.RecipientError)])
def test_bad_recipients_are_refused_before_anything_is_written(recipients, error):
    out = io.BytesIO()
    with pytest.raises(error):
        SealedWriter(out, recipients)
    assert out.getvalue() == b"" and _sealer_threads() == []
