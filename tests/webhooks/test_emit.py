"""emit(): one outbox row per subscribed endpoint in the caller's transaction, the send task
after commit, thin payloads — and the real state changes emit their events."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from exchange.models import WebhookMessage
from exchange.services import dispatch, escrow
from exchange.services import webhooks as svc

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/a"


def _events(endpoint) -> list[str]:
    return list(WebhookMessage.objects.filter(endpoint=endpoint).order_by("seq").values_list("event_type", flat=True))


def test_emit_writes_a_row_per_subscribed_enabled_endpoint_of_the_firm_only(make_firm, actor_for, make_endpoint):
    firm, other = make_firm(), make_firm()
    wants, _ = make_endpoint(firm, URL, events=["contract.paid"])
    not_subscribed, _ = make_endpoint(firm, URL, events=["delivery.ready"])
    disabled, _ = make_endpoint(firm, URL, events=["contract.paid"])
    svc.endpoint_set_enabled(actor=actor_for(firm), endpoint=disabled, enabled=False)
    others, _ = make_endpoint(other, URL, events=["contract.paid"])

    written = svc.emit("contract.paid", firm, {"contract": "c-1", "status": "paid"})

    assert written == 1
    message = WebhookMessage.objects.get()
    assert message.endpoint_id == wants.pk
    assert message.msg_id.startswith("msg_")
    body = json.loads(message.body)
    assert sorted(body) == ["data", "timestamp", "type"]
    assert (body["type"], body["data"]) == ("contract.paid", {"contract": "c-1", "status": "paid"})
    assert body["timestamp"].endswith("Z")
    assert [_events(e) for e in (not_subscribed, disabled, others)] == [[], [], []]


def test_an_unknown_event_type_is_a_programming_error(make_firm):
    with pytest.raises(ValueError):
        svc.emit("contract.stolen", make_firm(), {})


def test_a_rolled_back_change_leaves_no_message(make_firm, make_endpoint):
    firm = make_firm()
    make_endpoint(firm, URL)
    with pytest.raises(RuntimeError), transaction.atomic():
        svc.emit("contract.paid", firm, {"contract": "c-1"})
        raise RuntimeError("the state change failed")
    assert WebhookMessage.objects.count() == 0


def test_the_send_task_is_published_only_after_commit(make_firm, make_endpoint, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, URL)
    sent = []
    monkeypatch.setattr(dispatch, "send_task_now", lambda name, *args: sent.append((name, *args)) or True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        svc.emit("contract.paid", firm, {"contract": "c-1"})
        assert sent == []
    assert len(callbacks) == 1
    assert sent == [("shujiao.webhooks.deliver", str(endpoint.pk))]


def test_a_trade_emits_each_event_once_to_seller_and_buyer_with_ids_and_states_only(
        make_firm, make_endpoint, paid_contract, build_now):
    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    seller_hook, _ = make_endpoint(seller, URL)
    buyer_hook, _ = make_endpoint(buyer, URL)

    contract = paid_contract(seller=seller, buyer=buyer, content=b"id,text,label\n1,secret review text,pos\n")
    build_now(contract.delivery)

    trade = ["access_request.created", "access_request.approved", "contract.paid", "contract.settled", "delivery.ready"]
    assert _events(seller_hook) == ["version.checked", "listing.reviewed", *trade]
    assert _events(buyer_hook) == trade
    bodies = [json.loads(m.body) for m in WebhookMessage.objects.filter(endpoint=buyer_hook).order_by("seq")]
    assert bodies[-1]["data"] == {"delivery": str(contract.delivery.pk), "contract": str(contract.pk),
                                  "listing": str(contract.listing_id), "buyer": str(buyer.pk), "seller": str(seller.pk),
                                  "status": "ready"}
    assert bodies[0]["data"]["status"] == "pending"
    assert bodies[1]["data"]["contract"] == str(contract.pk)
    for message in WebhookMessage.objects.all():
        assert "secret review text" not in message.body
        assert "licence" not in message.body and "manifest" not in message.body


def test_reject_refund_and_failed_checks_emit_their_events(make_firm, actor_for, staff_actor, make_endpoint, make_offer,
                                                           paid_contract):
    from exchange.services import trading

    seller, buyer = make_firm(), make_firm()
    seller_hook, _ = make_endpoint(seller, URL)
    buyer_hook, _ = make_endpoint(buyer, URL)
    offer = make_offer(seller, access_mode="approval")
    request = trading.access_request_create(actor=actor_for(buyer), offer=offer,
                                            purpose="Training an intent classifier for our customer service.")
    trading.access_request_reject(actor=actor_for(seller), request=request, reason="Not for this purpose.")
    assert _events(buyer_hook) == ["access_request.created", "access_request.rejected"]
    rejected = json.loads(WebhookMessage.objects.filter(endpoint=buyer_hook).last().body)
    assert rejected["data"]["status"] == "rejected"
    assert "Not for this purpose" not in WebhookMessage.objects.filter(endpoint=buyer_hook).last().body

    contract = paid_contract(seller=seller, buyer=buyer)
    escrow.contract_refund(contract_id=contract.pk, reason="Staff decision", actor=staff_actor)
    assert _events(buyer_hook)[-1] == "contract.refunded"
    assert json.loads(WebhookMessage.objects.filter(endpoint=buyer_hook).last().body)["data"]["status"] == "refunded"


def test_a_failed_delivery_and_a_failed_check_emit_their_events(make_firm, actor_for, make_endpoint, paid_contract):
    from exchange.services import delivery, quality
    from tests.factories import make_dataset, upload

    seller, buyer = make_firm(), make_firm()
    seller_hook, _ = make_endpoint(seller, URL)
    buyer_hook, _ = make_endpoint(buyer, URL)
    contract = paid_contract(seller=seller, buyer=buyer)
    claim = delivery.delivery_claim(delivery_id=str(contract.delivery.pk))
    delivery.delivery_fail(claim=claim, code="broken", message="The source could not be read.")
    assert _events(buyer_hook)[-2:] == ["contract.refunded", "delivery.failed"]
    failed = json.loads(WebhookMessage.objects.filter(endpoint=buyer_hook).last().body)["data"]
    assert (failed["status"], failed["refunded"], failed["delivery"]) == ("failed", True, str(contract.delivery.pk))

    version = upload(actor_for(seller), make_dataset(actor_for(seller)))
    check = quality.quality_check_claim(version_id=str(version.pk))
    quality.quality_check_fail(claim=check, message="The check exceeded its time limit.")
    checked = json.loads(WebhookMessage.objects.filter(endpoint=seller_hook).last().body)
    assert checked["type"] == "version.checked"
    assert checked["data"] == {"version": str(version.pk), "dataset": str(version.dataset_id), "status": "failed",
                               "score": None, "grade": None}
