"""Disk full while an upload streams in, or while its version is saved to media.

A stub raises ENOSPC at a chosen byte. The temporary file is closed and deleted at once, the
API answers JSON 507 ``storage_full``, the web form shows the problem, no file stays in media,
and the next upload succeeds.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from exchange.errors import StorageFull, StorageUnavailable
from exchange.models import DatasetVersion
from exchange.services import catalog
from tests.factories import make_dataset

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def big_csv(rows: int = 60_000) -> bytes:  # about 3 MiB: several 1 MiB upload chunks
    return b"id,text,label\n" + b"".join(f"{i},review number {i} is rather long text,pos\n".encode()
                                          for i in range(1, rows + 1))


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def disk_full_at(monkeypatch):
    """Temporary upload files that raise ENOSPC once ``limit`` bytes were written; records each file."""
    made: list[TemporaryUploadedFile] = []

    def install(limit: int):
        class FullDiskTemporaryUploadedFile(TemporaryUploadedFile):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.written = 0
                self.path = self.temporary_file_path()
                made.append(self)

            def write(self, data):
                if self.written + len(data) > limit:
                    raise OSError(errno.ENOSPC, "No space left on device")
                self.written += len(data)
                return self.file.write(data)

        monkeypatch.setattr("django.core.files.uploadhandler.TemporaryUploadedFile", FullDiskTemporaryUploadedFile)

    install.made = made
    install.undo = monkeypatch.undo
    return install


def _api_client(actor) -> APIClient:
    client = APIClient()
    client.force_login(actor.user)
    return client


def test_api_upload_on_a_full_disk_is_507_json_and_leaves_nothing(make_firm, actor_for, disk_full_at):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    client = _api_client(actor)
    before = media_files()
    disk_full_at(int(1.5 * MiB))

    response = client.post(f"/api/v1/datasets/{dataset.pk}/versions/",
                           {"file": SimpleUploadedFile("d.csv", big_csv())}, format="multipart")

    assert response.status_code == 507, response.content
    error = response.json()["error"]
    assert error["code"] == "storage_full" and "storage is full" in error["message"]
    (temp,) = disk_full_at.made
    assert temp.file.closed and not os.path.exists(temp.path)
    assert DatasetVersion.objects.count() == 0
    assert media_files() == before

    disk_full_at.undo()  # space freed: the next upload works in the same process
    again = client.post(f"/api/v1/datasets/{dataset.pk}/versions/",
                        {"file": SimpleUploadedFile("d.csv", big_csv())}, format="multipart")
    assert again.status_code == 201, again.content
    assert DatasetVersion.objects.count() == 1


def test_api_upload_failing_at_the_first_byte_is_507(make_firm, actor_for, disk_full_at):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    disk_full_at(0)
    response = _api_client(actor).post(f"/api/v1/datasets/{dataset.pk}/versions/",
                                       {"file": SimpleUploadedFile("d.csv", b"id,text,label\n1,a,pos\n")},
                                       format="multipart")
    assert response.status_code == 507 and response.json()["error"]["code"] == "storage_full"
    assert not os.path.exists(disk_full_at.made[0].path)


def test_web_upload_on_a_full_disk_is_a_form_error(make_firm, actor_for, client, disk_full_at):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    client.force_login(actor.user)
    disk_full_at(int(1.5 * MiB))

    response = client.post(reverse("web:dataset", args=[dataset.pk]), {"file": SimpleUploadedFile("d.csv", big_csv())})

    assert response.status_code == 200
    body = response.content.decode()
    assert "storage is full" in body and "Attach a data file" not in body
    assert not os.path.exists(disk_full_at.made[0].path)
    assert DatasetVersion.objects.count() == 0

    disk_full_at.undo()
    again = client.post(reverse("web:dataset", args=[dataset.pk]), {"file": SimpleUploadedFile("d.csv", big_csv())})
    assert again.status_code == 302
    assert DatasetVersion.objects.count() == 1


class FailsWhileSaving(SimpleUploadedFile):
    """An upload whose bytes run out of disk after the first chunk is written to media (its SHA-256
    was computed while it streamed in, as the upload handler does)."""

    def __init__(self, name, content):
        super().__init__(name, content)
        self.sha256 = hashlib.sha256(content).hexdigest()

    def chunks(self, chunk_size=None):
        data = b"".join(super().chunks(chunk_size))
        yield data[: len(data) // 2]  # half the file reaches media, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_saving_to_media_deletes_the_partial_file(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    before = media_files()

    with pytest.raises(StorageFull) as caught:
        catalog.version_upload(actor=actor, dataset=dataset, upload=FailsWhileSaving("d.csv", big_csv()))
    # (without the fix the half-written file stays: FileSystemStorage does not remove it)

    assert caught.value.status == 507 and caught.value.code == "storage_full"
    assert media_files() == before
    assert DatasetVersion.objects.count() == 0
    version = catalog.version_upload(actor=actor, dataset=dataset, upload=SimpleUploadedFile("d.csv", big_csv()))
    assert Path(version.file.path).stat().st_size == len(big_csv())


def test_other_storage_errors_are_503_and_delete_the_partial_file(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    before = media_files()

    class IOErrorWhileSaving(FailsWhileSaving):
        def chunks(self, chunk_size=None):
            yield next(iter(SimpleUploadedFile.chunks(self, chunk_size)))[:1000]
            raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(StorageUnavailable) as caught:
        catalog.version_upload(actor=actor, dataset=dataset, upload=IOErrorWhileSaving("d.csv", big_csv()))
    assert (caught.value.status, caught.value.code) == (503, "storage_unavailable")
    assert "Input/output error" in caught.value.message
    assert media_files() == before
