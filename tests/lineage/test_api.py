"""REST faces of lineage: declaring on a version, uploading with derived_from, the offer flags,
the revenue-share lists of both sellers."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from exchange.models import DatasetVersion, VersionLineage
from exchange.services import escrow
from exchange.services.orgs import api_key_create
from tests.factories import csv_bytes, make_dataset
from tests.lineage.conftest import buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(actor_for):
    def _client(org, scopes=("read", "sell", "buy")):
        _, secret = api_key_create(actor=actor_for(org), name="test", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        return client

    return _client


def _error(response, status, code=None):
    assert response.status_code == status, response.content
    err = response.json()["error"]
    if code:
        assert err["code"] == code
    return err


def test_declare_through_the_api_and_read_it_with_the_version(chain, client_for):
    c = chain(share_bp=700)
    version = c.derived_offer.listing.version
    upstream = c.upstream_offer.listing.version
    client = client_for(c.licensee)
    r = client.post(f"/api/v1/versions/{version.pk}/lineage/", {"derived_from": str(upstream.pk),
                    "steps": ["anonymised", "deduplicated"], "notes": "names hashed"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["lineage"] == {**r.json()["lineage"], "derived_from": str(upstream.pk), "share_bp": 700,
                                   "steps": ["deduplicated", "anonymised"], "notes": "names hashed",
                                   "licence": str(c.licence.pk), "derived_from_number": 1}
    assert client.get(f"/api/v1/versions/{version.pk}/").json()["lineage"]["share_bp"] == 700
    _error(client.post(f"/api/v1/versions/{version.pk}/lineage/", {"derived_from": str(upstream.pk),
                       "steps": ["filtered"]}, format="json"), 409, "lineage_declared")


def test_api_refusals(chain, client_for):
    c = chain(derivatives_allowed=False, share_bp=0)
    version = c.derived_offer.listing.version
    upstream = c.upstream_offer.listing.version
    client = client_for(c.licensee)
    url = f"/api/v1/versions/{version.pk}/lineage/"
    err = _error(client.post(url, {"derived_from": str(upstream.pk), "steps": ["filtered"]}, format="json"), 400,
                 "derivatives_forbidden")
    assert "does not allow derivatives" in err["fields"]["derived_from"][0]
    _error(client.post(url, {"derived_from": str(uuid.uuid4()), "steps": ["filtered"]}, format="json"), 404)
    _error(client.post(url, {"derived_from": str(upstream.pk), "steps": ["shuffled"]}, format="json"), 400)
    _error(client.post(url, {"derived_from": str(upstream.pk), "steps": "filtered", "notes": 3}, format="json"), 400)
    # another firm's version: 404 exactly as an unknown id
    other = client_for(c.buyer)
    hidden = _error(other.post(url, {"derived_from": str(upstream.pk), "steps": ["filtered"]}, format="json"), 404)
    unknown = _error(other.post(f"/api/v1/versions/{uuid.uuid4()}/lineage/", {"derived_from": str(upstream.pk),
                                "steps": ["filtered"]}, format="json"), 404)
    assert hidden == unknown
    assert not VersionLineage.objects.exists()


def test_upload_with_derived_from(chain, client_for, actor_for):
    c = chain(share_bp=2000)
    dataset = make_dataset(actor_for(c.licensee))
    client = client_for(c.licensee)
    upstream = c.upstream_offer.listing.version
    url = f"/api/v1/datasets/{dataset.pk}/versions/"
    refused = client.post(url, {"file": SimpleUploadedFile("d.csv", csv_bytes(12)), "derived_from": str(uuid.uuid4()),
                                "lineage_steps": ["filtered"]}, format="multipart")
    _error(refused, 404)
    assert not DatasetVersion.objects.filter(dataset=dataset).exists()  # nothing half-written
    r = client.post(url, {"file": SimpleUploadedFile("d.csv", csv_bytes(12)), "derived_from": str(upstream.pk),
                          "lineage_steps": ["filtered", "relabelled"], "lineage_notes": "kept 12 rows"},
                    format="multipart")
    assert r.status_code == 201, r.content
    assert r.json()["lineage"]["steps"] == ["relabelled", "filtered"] and r.json()["lineage"]["share_bp"] == 2000


def test_offer_flags_in_the_api(make_firm, actor_for, client_for):
    from exchange.services.catalog import listing_create
    from tests.factories import passed_version

    seller = make_firm()
    actor = actor_for(seller)
    dataset = make_dataset(actor)
    listing = listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    client = client_for(seller)
    url = f"/api/v1/listings/{listing.pk}/offers/"
    err = _error(client.post(url, {"name": "Std", "price_fen": 100, "derivatives_allowed": True,
                                   "derivative_share_bp": 10001}, format="json"), 400)
    assert "derivative_share_bp" in err["fields"]
    err = _error(client.post(url, {"name": "Std", "price_fen": 100, "derivative_share_bp": 500}, format="json"), 400)
    assert "allows derivatives" in err["fields"]["derivative_share_bp"][0]
    _error(client.post(url, {"name": "Std", "price_fen": 100, "derivatives_allowed": "yes"}, format="json"), 400)
    r = client.post(url, {"name": "Std", "price_fen": 100, "derivatives_allowed": True, "derivative_share_bp": 1500},
                    format="json")
    assert r.status_code == 201, r.content
    assert (r.json()["derivatives_allowed"], r.json()["derivative_share_bp"]) == (True, 1500)


def test_revenue_shares_for_both_sellers(chain, actor_for, client_for):
    c = chain(share_bp=1000)
    from exchange.services.lineage import lineage_declare

    lineage_declare(actor=actor_for(c.licensee), version=c.derived_offer.listing.version,
                    derived_from=c.upstream_offer.listing.version.pk, steps=["filtered"])
    sale = buy(actor_for(c.buyer), c.derived_offer)
    escrow.contract_settle(contract_id=sale.pk)
    received = client_for(c.upstream_seller).get("/api/v1/revenue-shares/").json()["results"]
    paid = client_for(c.licensee).get("/api/v1/revenue-shares/?role=paid").json()["results"]
    # 9999 fen: commission 499, proceeds 9500, 10 % -> 950
    assert [(r["contract"], r["share_fen"], r["base_fen"], r["seller"]) for r in received] == [
        (str(sale.pk), 950, 9500, "Cleaner Co")]
    assert paid == received
    assert client_for(c.licensee).get("/api/v1/revenue-shares/").json()["results"] == []
    assert client_for(c.buyer).get("/api/v1/revenue-shares/?role=paid").json()["results"] == []
    _error(client_for(c.buyer).get("/api/v1/revenue-shares/?role=both"), 400)
