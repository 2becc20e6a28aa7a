"""Revisions (issue 11): a seller publishes a newer passed version to its listing; a schema or
personal-data change waits for staff; the worker's diff is stored and served; contracts keep
the version they bought; bad input is refused with a message and writes nothing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import AuditEvent, Listing, ListingRevision
from exchange.services import orgs, revisions
from tests.factories import make_dataset, passed_version, published_listing, upload


def v2_bytes(rows: int = 20) -> bytes:
    # v1 is tests.factories.csv_bytes(20): here row 1 is relabelled, row 2 edited, row 20 gone, 21–22 new
    lines = ["id,text,label"]
    for i in range(1, rows + 3):
        if i == 20:
            continue
        text = f"review number {i} 很好" + (" (edited)" if i == 2 else "")
        label = "pos" if i % 3 else "neg"
        if i == 1:
            label = "neg"
        lines.append(f"{i},{text},{label}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def seller(make_firm, actor_for):
    return actor_for(make_firm("Seller"))


@pytest.fixture
def listing(seller, staff_actor):
    return published_listing(seller, staff_actor)


def test_publishing_a_newer_version_goes_live_and_the_diff_is_computed(seller, listing, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    import exchange.services.dispatch as dispatch

    sent = []
    monkeypatch.setattr(dispatch, "send_task_now", lambda name, *args: sent.append((name, args)))
    # given a published listing (its first revision recorded on approval) and a passed v2
    assert list(listing.revisions.values_list("version__number", "status")) == [(1, "live")]
    v2 = passed_version(seller, listing.dataset, v2_bytes())
    # when the seller publishes v2 with a changelog
    with django_capture_on_commit_callbacks(execute=True):
        rev = revisions.listing_publish_version(actor=seller, listing=listing, version=v2,
                                                changelog="Relabelled row 1, fixed row 2")
    # then it is live at once (same schema, no new personal data), the listing shows v2 and the diff is queued
    listing.refresh_from_db()
    assert rev.status == "live" and listing.version_id == v2.pk and rev.previous_version.number == 1
    assert sent == [("shujiao.diff.compute_revision", (str(rev.pk),))]
    assert AuditEvent.objects.filter(action="listing.version_changed", object_id=str(listing.pk)).count() == 1
    # and the worker's diff is exact
    assert revisions.revision_diff_compute(revision_id=str(rev.pk)) == "stored"
    assert revisions.revision_diff_compute(revision_id=str(rev.pk)) == "nothing to do"  # idempotent
    rev.refresh_from_db()
    d = revisions.revision_diff(rev)
    assert (d.rows.mode, d.rows.added, d.rows.removed, d.rows.changed, d.rows.relabelled) == ("key", 2, 1, 2, 1)
    assert [(e.key, e.old_label, e.new_label) for e in d.rows.examples["relabelled"]] == [("1", "pos", "neg")]
    assert d.fields == ()


def test_a_schema_change_waits_for_staff_then_goes_live(seller, listing, staff_actor):
    v2 = passed_version(seller, listing.dataset, b"id,text,label,source\n" + b"".join(
        f"{i},review {i},{'pos' if i % 2 else 'neg'},web\n".encode() for i in range(1, 21)))
    rev = revisions.listing_publish_version(actor=seller, listing=listing, version=v2, changelog="Adds a source column")
    listing.refresh_from_db()
    assert rev.status == "in_review" and listing.version.number == 1
    assert rev.review_reasons == ["schema changed: source added"]
    # a second one while the first waits is refused
    v3 = passed_version(seller, listing.dataset, v2_bytes())
    with pytest.raises(Conflict, match="awaiting staff review"):
        revisions.listing_publish_version(actor=seller, listing=listing, version=v3, changelog="again")
    # the seller cannot approve its own revision; staff must give a reason to reject
    with pytest.raises(Forbidden):
        revisions.listing_revision_review(actor=seller, revision=rev, approve=True)
    with pytest.raises(InvalidInput):
        revisions.listing_revision_review(actor=staff_actor, revision=rev, approve=False)
    revisions.listing_revision_review(actor=staff_actor, revision=rev, approve=True, note="ok")
    listing.refresh_from_db()
    assert listing.version_id == v2.pk
    assert ListingRevision.objects.get(pk=rev.pk).status == "live"


def test_new_personal_data_goes_to_review(seller, staff_actor):
    # given a dataset that declares personal data, listed with a version that has none
    dataset = make_dataset(seller, contains_personal_data=True,
                           legal_basis="Consent of each customer under PIPL art. 13(1), recorded by the seller")
    listing = published_listing(seller, staff_actor, dataset=dataset)
    v2 = passed_version(seller, listing.dataset, b"id,text,label\n" + b"".join(
        f"{i},call 1380013{8000 + i},{'pos' if i % 2 else 'neg'}\n".encode() for i in range(1, 21)))
    rev = revisions.listing_publish_version(actor=seller, listing=listing, version=v2, changelog="More text")
    assert rev.status == "in_review"
    assert any("personal data" in r and "mobile" in r for r in rev.review_reasons)


def test_bad_publications_are_refused_and_write_nothing(seller, listing, make_firm, actor_for):
    before = (ListingRevision.objects.count(), AuditEvent.objects.count())
    other_firm = actor_for(make_firm("Other"))
    checking = upload(seller, listing.dataset, v2_bytes())  # not checked yet
    other_dataset_version = passed_version(seller, make_dataset(seller, title="Another"))
    cases = [
        (dict(actor=other_firm, version=checking, changelog="x"), NotFound, "No such listing"),
        (dict(actor=seller, version=checking, changelog="x"), Conflict, "has not passed"),
        (dict(actor=seller, version=listing.version, changelog="x"), Conflict, "not newer"),
        (dict(actor=seller, version=other_dataset_version, changelog="x"), InvalidInput, "does not belong"),
        (dict(actor=seller, version=checking, changelog="  "), InvalidInput, "Say what changed"),
    ]
    for kwargs, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            revisions.listing_publish_version(listing=listing, **kwargs)
    Listing.objects.filter(pk=listing.pk).update(status="retired")
    v2 = passed_version(seller, listing.dataset, v2_bytes(25))
    with pytest.raises(Conflict, match="Only a published listing"):
        revisions.listing_publish_version(actor=seller, listing=listing, version=v2, changelog="x")
    assert (ListingRevision.objects.count(), AuditEvent.objects.filter(action__startswith="listing.revision").count()
            ) == (before[0], 0)


def test_contracts_keep_the_version_they_bought(seller, listing, make_firm, actor_for):
    from exchange.models import Offer, Organization
    from exchange.services.trading import access_request_create, wallet_topup

    buyer_org = make_firm("Buyer")
    buyer = actor_for(buyer_org)
    from django.contrib.auth import get_user_model

    from exchange.actor import Actor

    staff = Actor(type="staff", user=get_user_model().objects.filter(is_staff=True).first())
    wallet_topup(actor=staff, organization=Organization.objects.get(pk=buyer_org.pk), amount_fen=10_000, memo="t")
    req = access_request_create(actor=buyer, offer=Offer.objects.get(listing=listing), purpose="Training a model")
    contract = req.contract
    v2 = passed_version(seller, listing.dataset, v2_bytes())
    revisions.listing_publish_version(actor=seller, listing=listing, version=v2, changelog="v2")
    contract.refresh_from_db()
    assert contract.dataset_version.number == 1


def _client(actor, scopes):
    _key, secret = orgs.api_key_create(actor=actor, name="k", scopes=scopes)
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return c


def test_api_publish_history_and_diff(seller, listing, make_firm, actor_for, django_assert_max_num_queries):
    v2 = passed_version(seller, listing.dataset, v2_bytes())
    c = _client(seller, ["read", "sell"])
    # bad input: a 4xx naming the problem
    r = c.post(f"/api/v1/listings/{listing.pk}/revisions/", {"version": str(v2.pk)}, format="json")
    assert r.status_code == 400 and "changelog" in r.json()["error"]["fields"]
    r = c.post(f"/api/v1/listings/{listing.pk}/revisions/", {"version": str(v2.pk), "changelog": "v2"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 2 and r.json()["status"] == "live" and r.json()["diff_status"] == "pending"
    rev = ListingRevision.objects.get(pk=r.json()["id"])
    revisions.revision_diff_compute(revision_id=str(rev.pk))
    # public history: newest first, rows and grade, in a constant number of queries
    anon = APIClient()
    with django_assert_max_num_queries(4):
        h = anon.get(f"/api/v1/catalog/{listing.pk}/revisions/")
    assert h.status_code == 200
    assert [(x["version"], x["rows"], x["grade"]) for x in h.json()] == [(2, 21, "A"), (1, 20, "A")]
    d = anon.get(f"/api/v1/catalog/{listing.pk}/revisions/{rev.pk}/diff/").json()
    assert d["diff_status"] == "ready" and d["diff"]["rows"]["relabelled"] == 1
    # another firm gets 404 for the seller's listing, like an unknown id
    other = _client(actor_for(make_firm("Other")), ["read", "sell"])
    a = other.post(f"/api/v1/listings/{listing.pk}/revisions/", {"version": str(v2.pk), "changelog": "x"},
                   format="json")
    b = other.post("/api/v1/listings/00000000-0000-0000-0000-000000000000/revisions/",
                   {"version": str(v2.pk), "changelog": "x"}, format="json")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()


def test_the_diff_reads_a_metadata_line_as_the_quality_check_did(seller, listing, monkeypatch):
    import exchange.services.dispatch as dispatch

    monkeypatch.setattr(dispatch, "send_task_now", lambda name, *args: None)
    # given v2 exported with a banner line above its header (the check found the header on row 2)
    v2 = passed_version(seller, listing.dataset, b"exported by ACME 2026-12-01\n" + v2_bytes())
    rev = revisions.listing_publish_version(actor=seller, listing=listing, version=v2, changelog="Banner export")
    # when the worker computes the diff
    assert revisions.revision_diff_compute(revision_id=str(rev.pk)) == "stored"
    rev.refresh_from_db()
    d = revisions.revision_diff(rev)
    # then the banner and the header are not rows: the same figures as the file without the banner
    assert (d.rows.old_rows, d.rows.new_rows) == (20, 21)
    assert (d.rows.added, d.rows.removed, d.rows.changed, d.rows.relabelled) == (2, 1, 2, 1)
