"""API: age recipients of a firm; fingerprint choices on offers."""

from __future__ import annotations

import subprocess

from rest_framework.test import APIClient

from exchange.models import AgeRecipient, Offer
from exchange.services import catalog, orgs
from tests.factories import METER_SCHEMA, make_dataset, meter_csv, passed_version


def key_client(actor, scopes):
    _, secret = orgs.api_key_create(actor=actor, name="k", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def _keygen(tmp_path):
    out = subprocess.run(["age-keygen", "-o", str(tmp_path / "id.txt")], capture_output=True, text=True, check=True)
    return str(tmp_path / "id.txt"), next(w for w in (out.stderr + out.stdout).split() if w.startswith("age1"))


def test_a_buy_key_registers_verifies_lists_and_revokes_a_recipient(make_firm, actor_for, tmp_path):
    org = make_firm()
    client = key_client(actor_for(org), ["buy"])
    identity, recipient = _keygen(tmp_path)
    created = client.post("/api/v1/age-recipients/", {"recipient": recipient, "label": "ci"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending" and body["challenge"].startswith("-----BEGIN AGE ENCRYPTED FILE-----")
    plain = subprocess.run(["age", "-d", "-i", identity], input=body["challenge"], capture_output=True, text=True,
                           check=True).stdout
    wrong = client.post(f"/api/v1/age-recipients/{body['id']}/verify/", {"answer": "nope"}, format="json")
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_answer" and "answer" in wrong.json()["error"]["fields"]
    ok = client.post(f"/api/v1/age-recipients/{body['id']}/verify/", {"answer": plain}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "verified" and ok.json()["challenge"] == ""
    listed = client.get("/api/v1/age-recipients/").json()
    assert [r["recipient"] for r in listed["results"]] == [recipient]
    revoked = client.post(f"/api/v1/age-recipients/{body['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"


def test_recipient_errors_are_4xx_naming_the_problem(make_firm, actor_for):
    org = make_firm()
    client = key_client(actor_for(org), ["buy"])
    bad = client.post("/api/v1/age-recipients/", {"recipient": "AGE-SECRET-KEY-1XYZ"}, format="json")
    assert bad.status_code == 400 and "secret identity" in bad.json()["error"]["fields"]["recipient"][0]
    read_only = key_client(actor_for(org), ["read"])
    assert read_only.post("/api/v1/age-recipients/", {"recipient": "age1x"}, format="json").status_code == 403
    assert client.post("/api/v1/age-recipients/not-a-uuid/verify/", {"answer": "x"}, format="json").status_code == 404
    assert AgeRecipient.objects.count() == 0


def test_an_offer_with_a_fingerprint_is_created_and_shows_its_bound(make_firm, actor_for):
    seller = make_firm()
    actor = actor_for(seller)
    dataset = make_dataset(actor, schema=METER_SCHEMA)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset, meter_csv()))
    client = key_client(actor, ["sell"])
    url = f"/api/v1/listings/{listing.pk}/offers/"
    bad = client.post(url, {"name": "R", "price_fen": 100, "fingerprint": True, "fingerprint_gamma": 3,
                            "fingerprint_exclude": ["missing"]}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"fingerprint_gamma", "fingerprint_exclude"}
    assert Offer.objects.count() == 0
    ok = client.post(url, {"name": "R", "price_fen": 100, "fingerprint": True, "fingerprint_gamma": 50,
                           "fingerprint_exclude": ["tariff"]}, format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["fingerprint"] is True
    assert ok.json()["fingerprint_bound"].startswith(
        "the last declared decimal of numeric columns changes by one unit in at most 1 row in 50")
    assert "tariff" in ok.json()["fingerprint_bound"]


def test_a_fingerprint_on_data_with_nothing_to_mark_is_refused(make_firm, actor_for):
    seller = make_firm()
    actor = actor_for(seller)
    dataset = make_dataset(actor)  # id, text, label: no decimal column
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    client = key_client(actor, ["sell"])
    bad = client.post(f"/api/v1/listings/{listing.pk}/offers/", {"name": "R", "price_fen": 100, "fingerprint": True},
                      format="json")
    assert bad.status_code == 400
    assert "allow whitespace marks on text" in bad.json()["error"]["fields"]["fingerprint"][0]
    ok = client.post(f"/api/v1/listings/{listing.pk}/offers/", {"name": "R", "price_fen": 100, "fingerprint": True,
                                                                "fingerprint_text": True}, format="json")
    assert ok.status_code == 201 and "trailing space" in ok.json()["fingerprint_bound"]
