"""Sending the outbox to a real receiver on loopback, retries driven by a clock (no sleeping),
signatures checked with the official ``standardwebhooks`` package."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from exchange.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from exchange.services import webhook_delivery as delivery
from exchange.services import webhooks as svc
from workers.webhook_tasks import deliver_webhooks
from workers.webhooks import schedule

pytestmark = pytest.mark.django_db


def drive(endpoints, *, start, limit=200):
    """Call the task for every endpoint at ``start``, then at the next time an endpoint's oldest
    pending message is due, until nothing is pending. Returns the clock's last reading."""
    now = start
    for _ in range(limit):
        for endpoint in endpoints:
            deliver_webhooks(str(endpoint.pk), now=now.isoformat())
        heads = [WebhookMessage.objects.filter(endpoint=e, status="pending").order_by("seq").first()
                 for e in WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints], is_active=True)]
        heads = [h for h in heads if h is not None]
        if not heads:
            return now
        due = min(h.next_attempt_at for h in heads)
        assert due > now, "a due message was not sent"
        now = due
    pytest.fail("messages still pending after the drive limit")


def test_a_receiver_down_for_the_first_calls_gets_every_event_once_in_creation_order(
        make_firm, make_endpoint, receiver, paid_contract, build_now):
    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    seller_hook, seller_secret = make_endpoint(seller, receiver.url + "?firm=seller")
    buyer_hook, buyer_secret = make_endpoint(buyer, receiver.url + "?firm=buyer")
    contract = paid_contract(seller=seller, buyer=buyer)
    build_now(contract.delivery)
    created = {e.pk: list(WebhookMessage.objects.filter(endpoint=e).order_by("seq").values_list("msg_id", flat=True))
               for e in (seller_hook, buyer_hook)}
    assert (len(created[seller_hook.pk]), len(created[buyer_hook.pk])) == (7, 5)
    receiver.fail_first = 4

    drive([seller_hook, buyer_hook], start=timezone.now())

    assert [c.status for c in receiver.calls[:4]] == [503] * 4
    accepted = receiver.accepted
    ids = [c.headers["webhook-id"] for c in accepted]
    assert sorted(ids) == sorted(created[seller_hook.pk] + created[buyer_hook.pk])  # every event, each exactly once
    for endpoint, secret, firm in ((seller_hook, seller_secret, "seller"), (buyer_hook, buyer_secret, "buyer")):
        mine = [c for c in accepted if urlsplit(c.path).query == f"firm={firm}"]
        assert [c.headers["webhook-id"] for c in mine] == created[endpoint.pk]  # creation order
        for call in mine:
            payload = Webhook(secret).verify(call.body, call.headers)
            assert sorted(payload) == ["data", "timestamp", "type"]
    # The failed calls were retries of the two endpoints' first messages, each under its webhook-id,
    # spaced by the backoff.
    heads = [created[seller_hook.pk][0], created[buyer_hook.pk][0]]
    assert sorted(c.headers["webhook-id"] for c in receiver.calls[:4]) == sorted(heads * 2)
    for head in heads:
        log = list(WebhookAttempt.objects.filter(message__msg_id=head).order_by("id"))
        assert [(a.number, a.status_code, a.ok) for a in log] == [(1, 503, False), (2, 503, False), (3, 204, True)]
        gaps = [(b.attempted_at - a.attempted_at).total_seconds() for a, b in zip(log, log[1:], strict=False)]
        for failures, gap in enumerate(gaps, start=1):
            ceiling = schedule.BASE_SECONDS * 2 ** (failures - 1)
            assert ceiling / 2 <= gap <= ceiling
    log = list(WebhookAttempt.objects.filter(message__msg_id=heads[0]).order_by("id"))
    assert log[0].response_excerpt == "answer 503 to call 1"
    assert WebhookMessage.objects.filter(status="delivered").count() == 12
    assert WebhookAttempt.objects.count() == len(receiver.calls) == 16


def test_calling_the_task_again_sends_nothing_twice(make_firm, make_endpoint, receiver):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, receiver.url)
    svc.emit("contract.paid", firm, {"contract": "c-1", "status": "paid"})
    now = timezone.now().isoformat()
    assert deliver_webhooks(str(endpoint.pk), now=now) == 1
    assert deliver_webhooks(str(endpoint.pk), now=now) == 0
    assert len(receiver.calls) == 1


def test_a_message_claimed_by_another_worker_is_left_alone(make_firm, make_endpoint, receiver):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, receiver.url)
    svc.emit("contract.paid", firm, {"contract": "c-1"})
    now = timezone.now()
    assert delivery._claim_head(endpoint.pk, now) is not None  # another worker holds it
    assert delivery.deliver_endpoint(endpoint.pk, now=now) == 0
    assert receiver.calls == []
    # Its lease runs out (the worker died): the message is sent after all.
    assert delivery.deliver_endpoint(endpoint.pk, now=now + delivery.LEASE + timedelta(seconds=1)) == 1
    assert len(receiver.calls) == 1


def test_retry_after_from_the_receiver_is_honoured(make_firm, make_endpoint, receiver):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, receiver.url)
    svc.emit("contract.paid", firm, {"contract": "c-1"})
    receiver.fail_first, receiver.fail_status, receiver.fail_headers = 1, 429, {"Retry-After": "120"}
    now = timezone.now()

    deliver_webhooks(str(endpoint.pk), now=now.isoformat())

    message = WebhookMessage.objects.get()
    assert (message.status, message.failures, message.last_status_code) == ("pending", 1, 429)
    assert message.next_attempt_at == now + timedelta(seconds=120)
    deliver_webhooks(str(endpoint.pk), now=(now + timedelta(seconds=119)).isoformat())
    assert len(receiver.calls) == 1  # not yet due
    deliver_webhooks(str(endpoint.pk), now=(now + timedelta(seconds=120)).isoformat())
    message.refresh_from_db()
    assert (message.status, len(receiver.calls)) == ("delivered", 2)


def test_410_gone_disables_the_endpoint_and_reenabling_sends_what_waited(make_firm, actor_for, make_endpoint, receiver):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, receiver.url)
    svc.emit("contract.paid", firm, {"contract": "c-1"})
    svc.emit("contract.settled", firm, {"contract": "c-1"})
    receiver.answers = {1: (410, {})}
    now = timezone.now()

    drive([endpoint], start=now)

    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "The receiver answered 410 Gone.")
    assert len(receiver.calls) == 1
    assert list(WebhookMessage.objects.values_list("status", flat=True)) == ["pending", "pending"]
    assert delivery.sweep(now=now + timedelta(days=1)) == 0  # a disabled endpoint is not swept
    svc.endpoint_set_enabled(actor=actor_for(firm), endpoint=endpoint, enabled=True)
    drive([endpoint], start=timezone.now())
    assert [c.json["type"] for c in receiver.accepted] == ["contract.paid", "contract.settled"]


def test_after_three_days_of_failures_the_message_is_given_up_and_the_next_one_goes(make_firm, make_endpoint, receiver):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, receiver.url)
    svc.emit("contract.paid", firm, {"contract": "c-1"})
    svc.emit("contract.settled", firm, {"contract": "c-1"})
    first, second = WebhookMessage.objects.order_by("seq")
    receiver.fail_first, receiver.fail_status = 10_000, 500
    start = timezone.now()

    end = drive([endpoint], start=start)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == "failed"
    assert 22 <= first.attempts <= 34
    last = WebhookAttempt.objects.filter(message=first).order_by("-id").first()
    assert last.attempted_at == first.window_started_at + schedule.WINDOW
    # The second message waited behind the first; its own window (from its creation, moments
    # after the first's) was nearly over by then: one attempt right after the first was given
    # up, one more at the end of its window.
    tries = list(WebhookAttempt.objects.filter(message=second).order_by("id").values_list("attempted_at", flat=True))
    assert tries == [last.attempted_at, second.window_started_at + schedule.WINDOW]
    assert end == second.window_started_at + schedule.WINDOW
    assert len(receiver.calls) == first.attempts + 2


def test_a_replay_resends_a_delivered_message_under_the_same_webhook_id(make_firm, actor_for, make_endpoint, receiver):
    firm = make_firm()
    endpoint, secret = make_endpoint(firm, receiver.url)
    svc.emit("delivery.ready", firm, {"delivery": "d-1", "status": "ready"})
    drive([endpoint], start=timezone.now())
    message = WebhookMessage.objects.get()

    svc.message_replay(actor=actor_for(firm), endpoint=endpoint, msg_id=message.msg_id)
    drive([endpoint], start=timezone.now())

    assert [c.headers["webhook-id"] for c in receiver.accepted] == [message.msg_id, message.msg_id]
    assert receiver.calls[0].body == receiver.calls[1].body
    Webhook(secret).verify(receiver.calls[1].body, receiver.calls[1].headers)
    assert list(WebhookAttempt.objects.order_by("id").values_list("number", "manual")) == [(1, False), (2, True)]


def test_during_a_rotation_the_receiver_verifies_with_the_old_or_the_new_secret(make_firm, actor_for, make_endpoint,
                                                                                 receiver):
    firm = make_firm()
    endpoint, old = make_endpoint(firm, receiver.url)
    endpoint, new = svc.endpoint_rotate_secret(actor=actor_for(firm), endpoint=endpoint)
    svc.emit("contract.paid", firm, {"contract": "c-1"})
    drive([endpoint], start=timezone.now())
    call = receiver.calls[0]
    assert Webhook(old).verify(call.body, call.headers) == Webhook(new).verify(call.body, call.headers)
    # After the overlap only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    svc.emit("contract.settled", firm, {"contract": "c-1"})
    drive([endpoint], start=timezone.now())
    assert len(receiver.calls[1].headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(receiver.calls[1].body, receiver.calls[1].headers)


def test_the_sweeper_publishes_only_endpoints_whose_oldest_message_is_due(make_firm, make_endpoint, receiver,
                                                                           monkeypatch):
    firm, other = make_firm(), make_firm()
    due, _ = make_endpoint(firm, receiver.url)
    later, _ = make_endpoint(other, receiver.url)
    svc.emit("contract.paid", firm, {"contract": "c-1"})
    svc.emit("contract.paid", other, {"contract": "c-2"})
    now = timezone.now()
    WebhookMessage.objects.filter(endpoint=later).update(next_attempt_at=now + timedelta(minutes=5))
    sent = []
    monkeypatch.setattr(delivery, "send_task_now", lambda name, *args: sent.append((name, *args)) or True)

    assert delivery.sweep(now=now) == 1
    assert sent == [("shujiao.webhooks.deliver", str(due.pk))]


def test_a_url_that_now_resolves_to_loopback_is_refused_at_send_time_and_logged(make_firm, make_endpoint, receiver,
                                                                                 settings):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, "https://hooks.example.com/x")
    port = urlsplit(receiver.url).port
    # As if the name's DNS answer changed to a loopback address after the endpoint was saved.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"https://localhost:{port}/hook")
    settings.WEBHOOK_ALLOW_PRIVATE = False
    svc.emit("contract.paid", firm, {"contract": "c-1"})

    deliver_webhooks(str(endpoint.pk), now=timezone.now().isoformat())

    assert receiver.calls == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.ok is False
    assert attempt.error.startswith("refused: localhost resolves to ")
    message = WebhookMessage.objects.get()
    assert (message.status, message.failures) == ("pending", 1)
