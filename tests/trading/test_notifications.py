"""Notifications: each event reaches the right firm's members, in the web site and by e-mail
(sent once by the worker task's code path, released again when sending fails)."""

from __future__ import annotations

import pytest
from django.core import mail

from exchange.models import Membership, Notification
from exchange.services import notifications as notes
from exchange.services import trading
from tests.trading.conftest import PURPOSE, build_listing


def _events(org) -> list[str]:
    return list(Notification.objects.filter(organization=org).order_by("id").values_list("event", flat=True))


def test_request_decisions_and_payment_notify_the_other_side(make_firm, actor_for, fund):
    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    fund(buyer, 10_000)
    offer = build_listing(seller, price_fen=500, access_mode="approval")
    request = trading.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert _events(seller) == ["access_request.created"] and _events(buyer) == []
    trading.access_request_approve(actor=actor_for(seller), request=request)
    assert _events(buyer) == ["access_request.approved"]
    assert _events(seller) == ["access_request.created", "contract.paid"]
    other = trading.access_request_create(actor=actor_for(buyer), offer=build_listing(seller, access_mode="approval"),
                                          purpose=PURPOSE)
    trading.access_request_reject(actor=actor_for(seller), request=other, reason="Not for marketing.")
    rejected = Notification.objects.filter(organization=buyer, event="access_request.rejected").get()
    assert rejected.body == "Not for marketing." and rejected.link == "/buy/requests/"
    assert rejected.recipient == Membership.objects.get(organization=buyer).user


def test_every_active_member_is_notified_and_reads_only_their_own(make_firm, actor_for):
    from django.contrib.auth import get_user_model

    firm = make_firm("Two people")
    colleague = get_user_model().objects.create_user("colleague", "c@example.com", "a-Long-enough-pass-2026")
    Membership.objects.create(user=colleague, organization=firm)
    idle = get_user_model().objects.create_user("idle", "i@example.com", "a-Long-enough-pass-2026", is_active=False)
    Membership.objects.create(user=idle, organization=firm)
    assert notes.notify(organizations=[firm], event="listing.reviewed", title="Review done") == 2
    owner_actor = actor_for(firm)
    assert notes.notifications_of(actor=owner_actor).count() == 1
    assert notes.notifications_mark_read(actor=owner_actor) == 1
    assert notes.unread_count(user=colleague) == 1


def test_email_is_sent_once_per_notification(make_firm, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    firm = make_firm("Mail Co")
    notes.notify(organizations=[firm], event="dispute.opened", title="A problem was reported with X", link="/c/1/")
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert notes.notifications_email(ids=ids) == 1
    assert notes.notifications_email(ids=ids) == 0  # a redelivered task sends nothing twice
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[Shujiao] A problem was reported with X"
    assert message.to == [Membership.objects.get(organization=firm).user.email]
    assert "http://127.0.0.1:8000/c/1/" in message.body


def test_a_failed_send_is_released_for_the_retry(make_firm, monkeypatch):
    firm = make_firm("Flaky Mail Co")
    notes.notify(organizations=[firm], event="delivery.ready", title="Ready")
    ids = list(Notification.objects.values_list("pk", flat=True))

    def refuse(**kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(notes, "send_mail", refuse)
    with pytest.raises(ConnectionRefusedError):
        notes.notifications_email(ids=ids)
    row = Notification.objects.get()
    assert (row.email_sent_at, row.email_attempts) == (None, 1)
    monkeypatch.undo()
    assert notes.notifications_email(ids=ids) == 1
    assert Notification.objects.get().email_attempts == 2
