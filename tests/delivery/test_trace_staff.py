"""Staff trace a leak: the management command and the admin page, against real deliveries."""

from __future__ import annotations

import io
import random
import zipfile

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client

from exchange.models import AuditEvent
from tests.delivery.conftest import PURPOSE
from tests.delivery.test_fingerprint_age import FP_OFFER, SCHEMA, readings


@pytest.fixture
def fingerprinted_sales(make_firm, actor_for, staff_actor, signing_key, build_now):
    """One fingerprinted listing bought by three firms; returns (listing, deliveries)."""
    from exchange.services import catalog
    from exchange.services.trading import access_request_create, wallet_topup
    from tests.factories import make_dataset, passed_version

    seller = make_firm("卖方 Grid Data")
    s_actor = actor_for(seller)
    dataset = make_dataset(s_actor, schema=SCHEMA)
    version = passed_version(s_actor, dataset, readings(4000))
    listing = catalog.listing_create(actor=s_actor, dataset=dataset, version=version)
    offer = catalog.offer_create(actor=s_actor, listing=listing, name="Std", price_fen=500, access_mode="instant",
                                 **FP_OFFER)
    catalog.listing_submit(actor=s_actor, listing=listing)
    catalog.listing_review(actor=staff_actor, listing=listing, approve=True)
    deliveries = []
    for i in range(3):
        buyer = make_firm(f"Buyer {i}")
        wallet_topup(actor=staff_actor, organization=buyer, amount_fen=1000, memo=f"ref {i}")
        request = access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
        request.refresh_from_db()
        delivery = request.contract.delivery
        build_now(delivery)
        assert delivery.status == "ready", delivery.error
        deliveries.append(delivery)
    return listing, deliveries


def _data_of(delivery) -> bytes:
    with default_storage.open(delivery.package_name, "rb") as f:
        return zipfile.ZipFile(io.BytesIO(f.read())).read(delivery.data_path)


def _leak_parquet(data: bytes, keep: float, seed: int = 4) -> bytes:
    table = pcsv.read_csv(io.BytesIO(data))
    rows = list(range(table.num_rows))
    random.Random(seed).shuffle(rows)
    table = table.take(pa.array(rows[: int(len(rows) * keep)]))
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def test_trace_command_names_the_leaking_contract_and_clears_the_others(fingerprinted_sales, tmp_path):
    listing, deliveries = fingerprinted_sales
    guilty = deliveries[1]
    leak = tmp_path / "found-online.parquet"
    leak.write_bytes(_leak_parquet(_data_of(guilty), 0.3))
    out = io.StringIO()
    call_command("trace", str(leak), "--listing", str(listing.pk), stdout=out)
    text = out.getvalue()
    assert f"best match: contract {guilty.contract_id} (Buyer 1)" in text
    assert f"NAMED: contract {guilty.contract_id} (Buyer 1)" in text
    assert "runner-up: contract" in text
    for other in (deliveries[0], deliveries[2]):
        assert f"NAMED: contract {other.contract_id}" not in text
    event = AuditEvent.objects.filter(action="fingerprint.traced").get()
    assert event.details["named"] == [str(guilty.contract_id)]
    assert float(event.details["best"]["p_any_innocent"]) < 1e-6


def test_trace_command_names_no_one_for_the_unmarked_original(fingerprinted_sales, tmp_path):
    listing, _ = fingerprinted_sales
    leak = tmp_path / "original.csv"
    leak.write_bytes(readings(4000))
    out = io.StringIO()
    call_command("trace", str(leak), "--listing", str(listing.pk), stdout=out)
    assert "No contract named" in out.getvalue() and "NAMED" not in out.getvalue()


def test_trace_command_refuses_unreadable_input_with_a_reason(fingerprinted_sales, tmp_path):
    listing, _ = fingerprinted_sales
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(CommandError, match="cannot read this file as a table"):
        call_command("trace", str(junk), "--listing", str(listing.pk))
    no_key = tmp_path / "no-key.csv"
    no_key.write_bytes(b"kwh,tariff\n1.00,0.52\n")
    with pytest.raises(CommandError, match="lacks the key column"):
        call_command("trace", str(no_key), "--listing", str(listing.pk))
    with pytest.raises(CommandError, match="no such file"):
        call_command("trace", str(tmp_path / "missing.csv"))


def test_admin_trace_page_names_the_contract_for_staff_only(fingerprinted_sales, staff_actor, make_firm):
    from django.core.files.uploadedfile import SimpleUploadedFile

    listing, deliveries = fingerprinted_sales
    client = Client()
    client.force_login(staff_actor.user)
    url = "/admin/exchange/delivery/trace/"
    assert "Trace a leaked file" in client.get("/admin/exchange/delivery/").content.decode()
    page = client.post(url, {"listing": str(listing.pk), "file": SimpleUploadedFile(
        "leak.parquet", _leak_parquet(_data_of(deliveries[2]), 0.5))})
    assert page.status_code == 200
    body = page.content.decode()
    assert f"contract {deliveries[2].contract_id} (Buyer 2)" in body and "<strong>Named:</strong>" in body
    assert body.count("<td><strong>named</strong></td>") == 1 and body.count("<td>innocent</td>") == 2
    bad = client.post(url, {"listing": str(listing.pk), "file": SimpleUploadedFile("x.bin", b"\x00\xff" * 50)})
    assert bad.status_code == 400 and "cannot read this file as a table" in bad.content.decode()
    outsider = Client()
    outsider.force_login(make_firm("Nosy Co").memberships.first().user)
    assert outsider.get(url).status_code == 302  # the admin's login page, not the trace
    assert AuditEvent.objects.filter(action="fingerprint.traced").count() == 1


def test_trace_without_a_listing_scores_every_fingerprinted_listing(fingerprinted_sales, tmp_path):
    _, deliveries = fingerprinted_sales
    leak = tmp_path / "leak.jsonl"
    import json
    header, *rows = _data_of(deliveries[0]).decode().splitlines()
    names = header.split(",")
    leak.write_text("".join(json.dumps(dict(zip(names, r.split(","), strict=True))) + "\n" for r in rows[::2]))
    out = io.StringIO()
    call_command("trace", str(leak), stdout=out)
    assert f"NAMED: contract {deliveries[0].contract_id} (Buyer 0)" in out.getvalue()
    with pytest.raises(CommandError, match="is not a listing id"):
        call_command("trace", str(leak), "--listing", "nope")
