"""Audit log over REST: a firm sees and proves only its own events; bad input answers 400."""

from __future__ import annotations

import pytest
from django.db import transaction

from exchange.actor import Actor
from exchange.models import AuditEvent
from exchange.services.audit import audit_record
from tests.delivery.test_downloads import api_key
from workers import tlog

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_firms(make_firm):
    a, b = make_firm("Firm A"), make_firm("Firm B")
    for org in (a, b):
        with transaction.atomic():
            audit_record(actor=Actor.system("test"), action="test.about", organization=org, details={"x": org.name})
    return a, b


def _auth(org):
    return {"HTTP_AUTHORIZATION": f"Api-Key {api_key(org)}"}


def test_a_firm_lists_only_its_own_events(two_firms, client):
    a, b = two_firms
    rows = client.get("/api/v1/audit/events/", **_auth(a)).json()["results"]
    assert rows and {r["seq"] for r in rows} == set(
        AuditEvent.objects.filter(organization_id=str(a.pk)).values_list("seq", flat=True))
    assert all(r["leaf_index"] == r["seq"] - 1 for r in rows)


def test_another_firms_event_its_bytes_and_proof_are_not_found(two_firms, client):
    a, b = two_firms
    theirs = AuditEvent.objects.filter(organization_id=str(b.pk), action="test.about").get()
    for path in (f"/api/v1/audit/events/{theirs.seq}/", f"/api/v1/audit/events/{theirs.seq}/proof/"):
        response = client.get(path, **_auth(a))
        assert response.status_code == 404, path
    assert client.get(f"/api/v1/audit/events/{theirs.seq}/", **_auth(b)).status_code == 200


def test_anonymous_callers_get_no_events_but_public_proofs(two_firms, client):
    assert client.get("/api/v1/audit/events/").status_code == 401
    size = AuditEvent.objects.count()
    response = client.get(f"/api/v1/audit/consistency/?old_size=1&new_size={size}")
    assert response.status_code == 200 and len(response.json()["hashes"]) > 0
    checkpoint = client.get("/api/v1/audit/checkpoint/").json()
    assert tlog.open_checkpoint(checkpoint["note"], checkpoint["verifier_keys"]).size == checkpoint["tree_size"]


def test_default_proof_is_against_a_signed_checkpoint(two_firms, client):
    a, _ = two_firms
    mine = AuditEvent.objects.filter(organization_id=str(a.pk), action="test.about").get()
    proof = client.get(f"/api/v1/audit/events/{mine.seq}/proof/", **_auth(a)).json()
    cp = tlog.open_checkpoint(proof["checkpoint"], client.get("/.well-known/shujiao/audit/key").content.decode().split())
    assert cp.size == proof["tree_size"] and cp.root.hex() == proof["root"]
    tlog.verify_inclusion(proof["index"], cp.size, bytes.fromhex(proof["leaf_hash"]),
                          [bytes.fromhex(h) for h in proof["hashes"]], cp.root)


@pytest.mark.parametrize("query,field", [
    ("tree_size=abc", "tree_size"), ("tree_size=-1", "tree_size"), ("tree_size=1", "tree_size"),
    ("tree_size=999999", "tree_size"), ("encoding=rot13", "encoding"),
])
def test_bad_proof_queries_answer_400_naming_the_field(two_firms, client, query, field):
    a, _ = two_firms
    mine = AuditEvent.objects.filter(organization_id=str(a.pk), action="test.about").get()
    assert mine.seq > 1
    response = client.get(f"/api/v1/audit/events/{mine.seq}/proof/?{query}", **_auth(a))
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("query,field", [
    ("", "old_size"), ("old_size=x", "old_size"), ("old_size=3&new_size=2", "old_size"),
    ("old_size=1&new_size=999999", "new_size"),
])
def test_bad_consistency_queries_answer_400(two_firms, client, query, field):
    response = client.get(f"/api/v1/audit/consistency/?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
