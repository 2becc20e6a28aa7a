"""An age-sealed delivery is encrypted as it is built; a failure on the way leaves nothing stored."""

from __future__ import annotations

import errno
import hashlib
import subprocess
import tempfile
import zipfile

import pytest

from exchange.services import delivery as svc
from tests.delivery.test_fingerprint_age import _register
from tests.delivery.test_services import packages

pytestmark = pytest.mark.django_db

CONTENT = b"id,text,label\n" + b"".join(b"%d,some row text %d,pos\n" % (i, i * 7919) for i in range(60000))


class _FillsUp:
    """A temporary file on a disk that is full after ``room`` bytes."""

    def __init__(self, real, room: int):
        self._real, self._room = real, room

    def write(self, data):
        n = memoryview(data).nbytes
        if n > self._room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= n
        return self._real.write(data)

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._real.close()


@pytest.fixture
def delivery_tmp_fills_up(monkeypatch):
    real = tempfile.TemporaryFile
    seen = []

    def install(room: int):
        def temporary_file(*args, **kwargs):
            f = real(*args, **kwargs)
            if kwargs.get("prefix") == "shujiao-delivery-":  # the package being built, not other temp files
                seen.append(kwargs["prefix"])
                return _FillsUp(f, room)
            return f

        monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)

    install.seen = seen
    return install


def test_the_stored_object_is_the_age_file_only_and_opens_with_the_buyers_key(
        make_firm, actor_for, paid_contract, build_now, tmp_path):
    from django.core.files.storage import default_storage

    buyer = make_firm("买方 Buyer Co")
    identity, rec = _register(actor_for(buyer), buyer, tmp_path)
    delivery = paid_contract(content=CONTENT, buyer=buyer).delivery
    build_now(delivery)
    assert delivery.status == "ready", delivery.error
    assert packages(delivery) == [delivery.package_name.rsplit("/", 1)[1]]  # no plaintext copy beside it
    assert delivery.package_name.endswith(".zip.age")
    with default_storage.open(delivery.package_name, "rb") as f:
        sealed = f.read()
    assert (hashlib.sha256(sealed).hexdigest(), len(sealed)) == (delivery.package_sha256, delivery.package_size)
    (tmp_path / "p.zip.age").write_bytes(sealed)
    subprocess.run(["age", "-d", "-i", identity, "-o", str(tmp_path / "p.zip"), str(tmp_path / "p.zip.age")],
                   check=True)
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        assert zf.read(delivery.data_path) == CONTENT
        assert zf.testzip() is None


def test_a_disk_filling_up_while_the_age_file_is_written_leaves_nothing_and_retries(
        make_firm, actor_for, paid_contract, tmp_path, delivery_tmp_fills_up):
    buyer = make_firm("买方 Buyer Co")
    _register(actor_for(buyer), buyer, tmp_path)
    delivery = paid_contract(content=CONTENT, buyer=buyer).delivery
    assert len(CONTENT) > 3 << 19
    delivery_tmp_fills_up(5 << 18)  # mid-stream: the first MiB of ciphertext is written, then ENOSPC
    claim = svc.delivery_claim(delivery_id=str(delivery.pk))
    with pytest.raises(svc.TransientBuildError, match="No space left on device"):
        svc.delivery_build(claim=claim)
    assert delivery_tmp_fills_up.seen
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    assert "No space left on device" in delivery.error
    assert packages(delivery) == [] and delivery.package_name == ""
