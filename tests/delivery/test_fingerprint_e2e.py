"""Done means, end to end with a real worker: a buyer with a registered age key buys a
fingerprinted offer; the package decrypts with age and verifies with openssl and
sha256sum; the data leaked (reordered, 30 % of rows, Parquet) traces back to that
contract below 1e-6 while the other buyers' contracts score as innocent."""

from __future__ import annotations

import io
import subprocess
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from exchange.models import Delivery, SigningKey
from tests.conftest import wait_until
from tests.delivery.conftest import PURPOSE
from tests.delivery.test_fingerprint_age import FP_OFFER, SCHEMA, _register, readings
from tests.delivery.test_trace_staff import _leak_parquet

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]


def test_encrypted_fingerprinted_purchase_end_to_end(make_firm, actor_for, staff_actor, signing_key,
                                                     celery_worker_process, tmp_path):
    from exchange.services import catalog
    from exchange.services.trading import access_request_create, wallet_topup
    from tests.factories import make_dataset, passed_version

    worker = celery_worker_process(queues="delivery")
    seller = make_firm("卖方 Grid Data")
    s_actor = actor_for(seller)
    dataset = make_dataset(s_actor, schema=SCHEMA)
    version = passed_version(s_actor, dataset, readings(4000))
    listing = catalog.listing_create(actor=s_actor, dataset=dataset, version=version)
    offer = catalog.offer_create(actor=s_actor, listing=listing, name="Std", price_fen=500, access_mode="instant",
                                 **FP_OFFER)
    catalog.listing_submit(actor=s_actor, listing=listing)
    catalog.listing_review(actor=staff_actor, listing=listing, approve=True)
    buyers = [make_firm(f"Buyer {i}") for i in range(3)]
    identity, recipient = _register(actor_for(buyers[1]), buyers[1], tmp_path)
    contracts = []
    for i, buyer in enumerate(buyers):
        wallet_topup(actor=staff_actor, organization=buyer, amount_fen=1000, memo=f"ref {i}")
        request = access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
        request.refresh_from_db()
        contracts.append(request.contract)

    def all_ready():
        states = list(Delivery.objects.filter(contract__in=contracts).values_list("status", flat=True))
        return states if all(s in ("ready", "failed") for s in states) and len(states) == 3 else None
    states = wait_until(all_ready, timeout=120, message=f"three builds; worker log:\n{worker.output()[-3000:]}")
    assert states == ["ready"] * 3

    delivery = Delivery.objects.get(contract=contracts[1])
    assert delivery.package_name.endswith(".zip.age") and delivery.encrypted_to == [recipient.recipient]
    assert all(not d.encrypted_to for d in Delivery.objects.exclude(pk=delivery.pk))
    with default_storage.open(delivery.package_name, "rb") as f:
        (tmp_path / "pkg.zip.age").write_bytes(f.read())
    subprocess.run(["age", "-d", "-i", identity, "-o", str(tmp_path / "pkg.zip"), str(tmp_path / "pkg.zip.age")],
                   check=True)
    out = tmp_path / "pkg"
    zipfile.ZipFile(tmp_path / "pkg.zip").extractall(out)
    (tmp_path / "exchange.pem").write_text(SigningKey.objects.get(kid=delivery.key_id).public_key_pem)
    subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "exchange.pem"), "-rawin",
                    "-in", "manifest.json", "-sigfile", "manifest.sig"], cwd=out, check=True, capture_output=True)
    subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, check=True, capture_output=True)

    leak = tmp_path / "leak.parquet"
    leak.write_bytes(_leak_parquet((out / delivery.data_path).read_bytes(), 0.3, seed=9))
    report = io.StringIO()
    call_command("trace", str(leak), "--listing", str(listing.pk), stdout=report)
    text = report.getvalue()
    assert f"NAMED: contract {contracts[1].pk} (Buyer 1)" in text, text
    best = next(line for line in text.splitlines() if "best match" in line)
    assert float(best.rsplit("= ", 1)[1]) < 1e-6
    for other in (contracts[0], contracts[2]):
        assert f"contract {other.pk}" not in text.split("NAMED:")[1]
