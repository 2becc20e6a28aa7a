"""Subscriptions (issue 11), in-process: a subscriber gets every version published during the term as
a new signed delivery carrying the diff; one-off buyers, expired terms and refunded contracts get none;
publishing is idempotent; update deliveries move no money and are audited, notified and webhooked."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict
from exchange.models import (
    AuditEvent,
    Contract,
    Delivery,
    LedgerTransfer,
    ListingRevision,
    Notification,
)
from exchange.services import revisions, subscriptions
from exchange.services.escrow import refund_locked
from tests.subscriptions.conftest import unpack, verify_with_stock_tools

pytestmark = pytest.mark.django_db


def _updates(contract) -> list[Delivery]:
    return list(Delivery.objects.filter(contract=contract, initial=False).select_related("dataset_version"))


def test_a_subscriber_gets_v2_as_a_signed_delivery_with_the_diff(subscription, one_off_buyer, publish_v2, build_now,
                                                                 client, tmp_path):
    sub = subscription()
    one_off = one_off_buyer(sub.listing)
    transfers = LedgerTransfer.objects.count()
    # when the seller publishes v2 (the diff is not computed yet: no diff worker runs here)
    revision = publish_v2(sub.listing)
    assert revision.status == "live"
    assert ListingRevision.objects.get(pk=revision.pk).diff_status == "pending"
    # then the subscriber has one update delivery of v2, from v1; the one-off buyer has none
    [update] = _updates(sub)
    assert (update.dataset_version.number, update.diff_from.number, update.status) == (2, 1, "queued")
    assert _updates(one_off) == [] and one_off.deliveries.count() == 1
    # when the delivery worker's code builds it (computing the diff it needs first)
    build_now(update)
    assert update.status == "ready", update.error
    assert ListingRevision.objects.get(pk=revision.pk).diff_status == "ready"
    # then the package verifies with openssl and sha256sum and its manifest lists the diff
    out = unpack(client, update, tmp_path)
    lines = verify_with_stock_tools(out, update.key_id)
    assert "metadata/diff.json: OK" in lines and "data/reviews.csv: OK" in lines
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dataset"]["version"] == 2 and manifest["dataset_version_id"] == str(update.dataset_version_id)
    assert manifest["update"]["from_version"] == 1 and manifest["update"]["path"] == "metadata/diff.json"
    assert "metadata/diff.json" in [f["path"] for f in manifest["files"]]
    diff = json.loads((out / "metadata" / "diff.json").read_text())
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    [step] = diff["steps"]
    assert step["status"] == "ready" and step["changelog"] == "Relabelled row 1, fixed row 2"
    rows = step["diff"]["rows"]
    assert (rows["added"], rows["removed"], rows["changed"], rows["relabelled"]) == (2, 1, 2, 1)
    assert b"(edited)" in (out / "data" / "reviews.csv").read_bytes()  # v2's bytes, not v1's
    # and no money moved: the contract stays settled by its first delivery
    assert LedgerTransfer.objects.count() == transfers
    assert Contract.objects.get(pk=sub.pk).status == "settled"
    # audited, notified, and the webhook payload names the version
    ready = AuditEvent.objects.get(action="delivery.ready", object_id=str(update.pk))
    assert ready.details["update"] is True and ready.details["version"] == 2
    assert Notification.objects.filter(event="delivery.update_ready", organization=sub.buyer).count() == 1
    assert AuditEvent.objects.filter(action="delivery.queued", object_id=str(update.pk)).get().details["diff_from"] == 1


def test_webhook_of_an_update_names_the_version(subscription, publish_v2, build_now, monkeypatch):
    import exchange.services.delivery as delivery_svc

    sent = []
    monkeypatch.setattr(delivery_svc, "emit", lambda event, orgs, data: sent.append((event, data)))
    sub = subscription()
    publish_v2(sub.listing)
    [update] = _updates(sub)
    build_now(update)
    event, data = sent[-1]
    assert event == "delivery.ready"
    assert {k: data[k] for k in ("update", "version", "diff_from_version", "delivery", "status")} == {
        "update": True, "version": 2, "diff_from_version": 1, "delivery": str(update.pk), "status": "ready"}


def test_publishing_again_makes_no_second_update(subscription, publish_v2, actor_for):
    sub = subscription()
    revision = publish_v2(sub.listing)
    # the hook runs again for the same revision (a retried or raced go-live): nothing new
    again = subscriptions.subscription_updates_create(listing=sub.listing, revision=revision,
                                                      actor=Actor.system("test"))
    assert again == [] and len(_updates(sub)) == 1
    # and the seller publishing the same version again is refused, making nothing
    with pytest.raises(Conflict):
        revisions.listing_publish_version(actor=actor_for(sub.seller), listing=sub.listing, version=revision.version,
                                          changelog="Same again")
    assert len(_updates(sub)) == 1


def test_an_expired_term_gets_no_update(subscription, publish_v2):
    sub = subscription(term_days=30)
    Contract.objects.filter(pk=sub.pk).update(paid_at=timezone.now() - timedelta(days=31))
    publish_v2(sub.listing)
    assert _updates(sub) == []


def test_a_refunded_subscription_gets_no_update(subscription, publish_v2, staff_actor):
    sub = subscription(acceptance_days=3)  # escrow still held: the buyer can be refunded
    from django.db import transaction

    with transaction.atomic():
        refund_locked(Contract.objects.select_for_update().get(pk=sub.pk), reason="Seller withdrew", actor=staff_actor)
    assert Contract.objects.get(pk=sub.pk).status == "refunded"
    publish_v2(sub.listing)
    assert _updates(sub) == []


def test_a_version_in_staff_review_is_delivered_when_approved(subscription, actor_for, staff_actor,
                                                              django_capture_on_commit_callbacks):
    from tests.factories import passed_version

    sub = subscription()
    seller = actor_for(sub.seller)
    v2 = passed_version(seller, sub.listing.dataset, b"id,text,label,source\n" + b"".join(
        f"{i},review {i},{'pos' if i % 2 else 'neg'},web\n".encode() for i in range(1, 21)))
    revision = revisions.listing_publish_version(actor=seller, listing=sub.listing, version=v2,
                                                 changelog="Adds a source column")
    assert revision.status == "in_review" and _updates(sub) == []
    with django_capture_on_commit_callbacks(execute=True):
        revisions.listing_revision_review(actor=staff_actor, revision=revision, approve=True)
    [update] = _updates(sub)
    assert update.dataset_version_id == v2.pk


def test_a_failed_update_refunds_nothing(subscription, publish_v2):
    from exchange.services import delivery as svc

    sub = subscription()
    publish_v2(sub.listing)
    [update] = _updates(sub)
    claim = svc.delivery_claim(delivery_id=str(update.pk))
    svc.delivery_fail(claim=claim, code="test", message="The package could not be built.")
    assert Delivery.objects.get(pk=update.pk).status == "failed"
    assert Contract.objects.get(pk=sub.pk).status == "settled"
    assert not LedgerTransfer.objects.filter(contract=sub, kind="refund").exists()
    assert Notification.objects.filter(event="delivery.update_failed").exists()


def test_a_subscription_paid_after_the_listing_moved_on_gets_the_current_version(
        paid_contract, publish_v2, actor_for, make_firm, staff_actor, django_capture_on_commit_callbacks):
    from exchange.services import catalog
    from exchange.services.trading import (
        access_request_approve,
        access_request_create,
        contract_pay,
        wallet_topup,
    )

    first = paid_contract(offer={"kind": "subscription"})
    seller = actor_for(first.seller)
    offer = catalog.offer_create(actor=seller, listing=first.listing, name="Yearly updates", price_fen=3000,
                                 kind="subscription", acceptance_days=0)  # approval by the seller
    buyer = make_firm("Late Subscriber")  # an empty wallet: approval makes a contract awaiting payment
    request = access_request_create(actor=actor_for(buyer), offer=offer, purpose="Training a classifier.")
    contract = access_request_approve(actor=seller, request=request).contract
    assert contract.dataset_version.number == 1 and contract.status == "awaiting_payment"
    publish_v2(first.listing)  # v2 goes live before the late subscriber pays
    wallet_topup(actor=staff_actor, organization=buyer, amount_fen=10000, memo="bank ref 3")
    with django_capture_on_commit_callbacks(execute=True):
        contract_pay(actor=actor_for(buyer), contract=contract)
    versions = sorted(Delivery.objects.filter(contract=contract).values_list("dataset_version__number", "initial"))
    assert versions == [(1, True), (2, False)]


def test_the_licence_says_what_a_subscription_covers(subscription):
    sub = subscription()
    assert "10. Subscription. The term runs 365 days from payment. Every later version" in sub.licence_text
    assert "Renewal is a new purchase." in sub.licence_text


def test_the_sweeper_repairs_an_update_a_race_left_out(subscription, publish_v2, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    import exchange.services.dispatch as dispatch
    from exchange.services.delivery import delivery_sweep

    sent = []
    monkeypatch.setattr(dispatch, "send_task_now", lambda name, *args: sent.append((name, args)) or True)
    sub = subscription()
    publish_v2(sub.listing)
    Delivery.objects.filter(contract=sub, initial=False).delete()  # as if paid in the instant v2 went live
    with django_capture_on_commit_callbacks(execute=True):
        delivery_sweep()
    [update] = _updates(sub)
    assert update.dataset_version.number == 2 and ("shujiao.delivery.build", (str(update.pk),)) in sent
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions.subscriptions_catch_up_sweep() == 0  # idempotent
    assert len(_updates(sub)) == 1
