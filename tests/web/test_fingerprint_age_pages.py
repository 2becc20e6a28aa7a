"""Web: fingerprint choices on the offer form, the listing and licence; the firm's age keys."""

from __future__ import annotations

import subprocess

from django.urls import reverse

from exchange.models import AgeRecipient, AuditEvent, Offer
from exchange.services import catalog as catalog_svc
from tests import factories
from tests.web.conftest import client_for


def _offer_form(**extra):
    return {"name": "Research licence", "price": "10", "access_mode": "instant", "purpose_restriction": "",
            "term_days": "365", "download_limit": "5", **extra}


def test_seller_chooses_a_fingerprint_and_buyers_see_the_bound(seller_client, seller_actor, staff_actor, client):
    dataset = factories.make_dataset(seller_actor, schema=factories.METER_SCHEMA)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset,
                                         version=factories.passed_version(seller_actor, dataset, factories.meter_csv()))
    url = reverse("web:offer-add", args=[listing.pk])
    bad = seller_client.post(url, _offer_form(fingerprint="on", fingerprint_gamma="2", fingerprint_exclude="nope"))
    errors = bad.context["offer_form"].errors
    assert "fingerprint_gamma" in errors and "Not a column of this dataset: nope" in errors["fingerprint_exclude"][0]
    assert Offer.objects.count() == 0
    ok = seller_client.post(url, _offer_form(fingerprint="on", fingerprint_gamma="25", fingerprint_exclude="tariff"))
    assert ok.status_code == 302
    offer = Offer.objects.get()
    assert (offer.fingerprint, offer.fingerprint_gamma, offer.fingerprint_exclude) == (True, 25, ["tariff"])
    manage = seller_client.get(reverse("web:listing-manage", args=[listing.pk])).content.decode()
    assert "1 row in 25; never tariff" in manage
    catalog_svc.listing_submit(actor=seller_actor, listing=listing)
    catalog_svc.listing_review(actor=staff_actor, listing=listing, approve=True)
    page = client.get(reverse("web:listing", args=[listing.pk])).content.decode()
    assert "Your copy carries marks that trace it to your contract" in page
    assert "in at most 1 row in 25" in page


def test_licence_text_states_the_fingerprint_bound(seller_actor, buyer, actor_for, staff_actor):
    from exchange.services.trading import access_request_create, wallet_topup

    dataset = factories.make_dataset(seller_actor, schema=factories.METER_SCHEMA)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset,
                                         version=factories.passed_version(seller_actor, dataset, factories.meter_csv()))
    offer = catalog_svc.offer_create(actor=seller_actor, listing=listing, name="R", price_fen=100,
                                     access_mode="instant", fingerprint=True, fingerprint_gamma=40)
    catalog_svc.listing_submit(actor=seller_actor, listing=listing)
    catalog_svc.listing_review(actor=staff_actor, listing=listing, approve=True)
    wallet_topup(actor=staff_actor, organization=buyer, amount_fen=1000, memo="ref")
    request = access_request_create(actor=actor_for(buyer), offer=offer, purpose="Model training for routing.")
    request.refresh_from_db()
    text = request.contract.licence_text
    assert "10. Fingerprint. The licensee's copy carries marks keyed to this contract" in text
    assert "in at most 1 row in 40" in text


def test_a_firm_registers_verifies_and_revokes_an_age_key_on_its_page(buyer, tmp_path):
    client = client_for(buyer)
    out = subprocess.run(["age-keygen", "-o", str(tmp_path / "id.txt")], capture_output=True, text=True, check=True)
    recipient = next(w for w in (out.stderr + out.stdout).split() if w.startswith("age1"))
    assert "Manage encryption keys" in client.get(reverse("web:firm")).content.decode()
    bad = client.post(reverse("web:age-key-add"), {"recipient": "ssh-ed25519 AAAA", "label": ""})
    assert bad.status_code == 400 and "Only age X25519 recipients" in bad.content.decode()
    assert client.post(reverse("web:age-key-add"), {"recipient": recipient, "label": "laptop"}).status_code == 302
    rec = AgeRecipient.objects.get()
    page = client.get(reverse("web:age-keys")).content.decode()
    assert "Awaiting proof" in page and "BEGIN AGE ENCRYPTED FILE" in page
    plain = subprocess.run(["age", "-d", "-i", str(tmp_path / "id.txt")], input=rec.challenge, capture_output=True,
                           text=True, check=True).stdout
    field = f"{rec.pk}-answer"
    wrong = client.post(reverse("web:age-key-verify", args=[rec.pk]), {field: "wrong"})
    assert wrong.status_code == 400 and "4 attempt(s) left" in wrong.content.decode()
    assert client.post(reverse("web:age-key-verify", args=[rec.pk]), {field: plain}).status_code == 302
    assert "Verified" in client.get(reverse("web:age-keys")).content.decode()
    assert client.post(reverse("web:age-key-revoke", args=[rec.pk])).status_code == 302
    rec.refresh_from_db()
    assert rec.status == "revoked"
    assert AuditEvent.objects.filter(object_id=str(rec.pk), action="age_recipient.revoked").count() == 1
