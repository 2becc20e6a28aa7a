"""End to end on object storage: a real Celery worker process and this (web) process share
nothing but PostgreSQL, Redis and an S3 bucket (moto server on loopback). Each has its own
MEDIA_ROOT, which must stay absent, and the worker its own temp dir."""

from __future__ import annotations

import io
import zipfile

import pytest

from exchange.models import DatasetVersion, Delivery
from tests.conftest import wait_until
from tests.delivery.conftest import PURPOSE
from tests.delivery.test_downloads import fetch, make_link

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]


def test_upload_check_delivery_and_ranged_download_with_a_real_worker_on_s3(
        s3_storage, celery_worker_process, make_firm, actor_for, staff_actor, client, tmp_path):
    from exchange.actor import Actor
    from exchange.services import catalog
    from exchange.services.signing import signing_key_ensure
    from exchange.services.trading import access_request_create, wallet_topup
    from tests.factories import csv_bytes, make_dataset, upload

    server, bucket = s3_storage
    signing_key_ensure(actor=Actor.system("test"))
    worker_media = tmp_path / "worker-media-must-stay-absent"
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    worker = celery_worker_process(queues="quality,delivery", MEDIA_ROOT=str(worker_media), TMPDIR=str(worker_tmp),
                                   **server.env(bucket))

    seller, buyer = make_firm("S3 Seller"), make_firm("S3 Buyer")
    s_actor = actor_for(seller)
    dataset = make_dataset(s_actor)
    content = csv_bytes(500)
    version = upload(s_actor, dataset, content)  # stored to S3 here; the check is the worker's
    assert version.file.name in server.keys(bucket)

    def version_status():
        return DatasetVersion.objects.get(pk=version.pk).status

    wait_until(lambda: version_status() in ("passed", "failed"), timeout=90,
               message=f"the worker to check the upload from S3; log:\n{worker.output()[-3000:]}")
    version.refresh_from_db()
    assert version.status == "passed", version.check_error

    listing = catalog.listing_create(actor=s_actor, dataset=dataset, version=version)
    offer = catalog.offer_create(actor=s_actor, listing=listing, name="Standard", price_fen=10000,
                                 access_mode="instant", download_limit=3, term_days=365)
    catalog.listing_submit(actor=s_actor, listing=listing)
    catalog.listing_review(actor=staff_actor, listing=listing, approve=True)
    wallet_topup(actor=staff_actor, organization=buyer, amount_fen=20000, memo="bank ref s3")
    request = access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    delivery = request.contract.delivery  # built by the worker once the payment committed

    def delivery_status():
        return Delivery.objects.get(pk=delivery.pk).status

    wait_until(lambda: delivery_status() in ("ready", "failed"), timeout=90,
               message=f"the worker to build the delivery to S3; log:\n{worker.output()[-3000:]}")
    delivery.refresh_from_db()
    assert delivery.status == "ready", delivery.error
    assert delivery.package_name in server.keys(bucket, "deliveries/")

    path, _ = make_link(client, delivery)
    size = delivery.package_size
    half = size // 2
    first, part1 = fetch(client, path, HTTP_RANGE=f"bytes=0-{half - 1}")
    second, part2 = fetch(client, path, HTTP_RANGE=f"bytes={half}-")
    assert (first.status_code, second.status_code) == (206, 206)
    assert second["Content-Range"] == f"bytes {half}-{size - 1}/{size}"
    with zipfile.ZipFile(io.BytesIO(part1 + part2)) as zf:
        data = [n for n in zf.namelist() if n.startswith("data/")]
        assert len(data) == 1 and zf.read(data[0]) == content

    assert not worker_media.exists(), "the worker wrote under its MEDIA_ROOT"
    # (shujiao-test-* is the test settings' own temp dir for the worker process)
    leftovers = [*worker_tmp.glob("shujiao-copy-*"), *worker_tmp.glob("shujiao-delivery-*")]
    assert leftovers == [], "the worker left temporary copies behind"
