"""Object storage for real: uploads, quality checks, deliveries and downloads against an
S3-compatible server (moto in server mode on loopback) through ``exchange.storage``."""

from __future__ import annotations

import math

import pytest

from exchange import storage
from exchange.models import Delivery
from tests.delivery.test_downloads import fetch, make_link

pytestmark = pytest.mark.django_db


def _record_gets():
    """Record the Range header of every GetObject this process's storage client sends."""
    from django.core.files.storage import storages

    sent: list[str | None] = []

    def hook(request, **_):
        sent.append(request.headers.get("Range").decode() if request.headers.get("Range") else None)

    storages["default"].connection.meta.client.meta.events.register("before-send.s3.GetObject", hook)
    return sent


def test_upload_check_and_package_live_in_the_bucket(s3_storage, ready_delivery):
    server, bucket = s3_storage
    delivery = ready_delivery()
    version = delivery.contract.dataset_version
    keys = server.keys(bucket)
    assert version.file.name in keys and delivery.package_name in keys
    assert storage.backend_name() == "s3"
    assert storage.size(delivery.package_name) == delivery.package_size
    # the web process's MEDIA_ROOT stays absent (checked again by the fixture at teardown)


def test_a_range_is_one_ranged_get_and_the_whole_package_streams_in_chunks(s3_storage, ready_delivery, client,
                                                                           settings):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    sent = _record_gets()

    response, part = fetch(client, path, HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206 and len(part) == 100
    assert sent == ["bytes=100-199"]

    settings.DOWNLOAD_CHUNK_BYTES = 4096
    sent.clear()
    response = client.get(path)
    chunks = list(response.streaming_content)
    size = delivery.package_size
    assert response.status_code == 200 and sum(map(len, chunks)) == size
    assert max(map(len, chunks)) <= 4096 and len(chunks) == math.ceil(size / 4096)
    assert sent == [f"bytes=0-{size - 1}"]
    assert b"".join(chunks)[100:200] == part


def test_a_quality_check_profiles_a_copy_in_its_own_temp_dir(s3_storage, make_firm, actor_for, settings, tmp_path,
                                                             monkeypatch):
    from exchange.services import quality
    from tests.factories import make_dataset, upload

    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    settings.QUALITY_TMP_DIR = str(worker_tmp)
    seen = []
    import workers.quality as wq  # quality_check_run imports profile from here when it runs

    original = wq.profile

    def spy(source, *args, **kwargs):
        seen.append((source, sorted(p.name for p in worker_tmp.iterdir())))
        return original(source, *args, **kwargs)

    monkeypatch.setattr(wq, "profile", spy)
    actor = actor_for(make_firm())
    version = upload(actor, make_dataset(actor))
    claim = quality.quality_check_claim(version_id=str(version.pk))
    quality.quality_check_run(claim=claim)
    version.refresh_from_db()

    assert version.status == "passed", version.check_error
    [(source, listing)] = seen
    assert source.name.startswith(str(worker_tmp)) and len(listing) == 1 and listing[0].endswith(".csv")
    assert list(worker_tmp.iterdir()) == []  # the copy is removed afterwards


def _dead(server) -> dict:
    """S3 settings pointing at the discard port, where nothing listens; one attempt, no retries."""
    from botocore.config import Config

    dead = server.storage_setting("no-bucket")
    dead["OPTIONS"].update(endpoint_url="http://127.0.0.1:9",
                           client_config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2))
    return dead


def test_missing_objects_and_an_unreachable_server_are_storage_errors(s3_storage, settings, s3_server):
    with pytest.raises(storage.StoredFileMissing):
        with storage.open_stream("datasets/none.csv") as f:
            f.read()
    with pytest.raises(storage.StoredFileMissing):
        list(storage.iter_range("datasets/none.csv", 0, 10))
    with pytest.raises(storage.StoredFileMissing):
        with storage.local_copy("datasets/none.csv"):
            pass

    settings.STORAGES = {**settings.STORAGES, "default": _dead(s3_server)}
    with pytest.raises(storage.StorageError) as err:
        with storage.open_stream("datasets/x.csv") as f:
            f.read()
    assert "unreachable" in str(err.value)


def test_a_build_whose_storage_is_down_is_released_for_a_retry(s3_storage, paid_contract, settings, s3_server):
    from exchange.services import delivery as svc

    delivery = paid_contract().delivery
    settings.STORAGES = {**settings.STORAGES, "default": _dead(s3_server)}
    claim = svc.delivery_claim(delivery_id=str(delivery.pk))
    with pytest.raises(svc.TransientBuildError):
        svc.delivery_build(claim=claim)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED and "storage error" in delivery.error
