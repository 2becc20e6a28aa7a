"""Firm settings → Webhooks pages: add (secret once), edit, disable/enable, rotate, log and replay."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exchange.models import Membership, WebhookEndpoint, WebhookMessage
from exchange.services import orgs
from exchange.services import webhooks as svc
from workers.webhook_tasks import deliver_webhooks

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def owner(firm):
    return firm.memberships.select_related("user").first().user


def test_firm_settings_links_to_webhooks_and_adding_shows_the_secret_once(make_firm, receiver):
    firm = make_firm()
    client = client_for(owner(firm))
    assert reverse("web:webhooks") in client.get(reverse("web:firm")).content.decode()

    response = client.post(reverse("web:webhooks"), {"url": receiver.url, "event_types": ["delivery.ready"],
                                                     "description": "ERP"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    body = response.content.decode()
    assert endpoint.secret in body and "It is shown only once" in body
    listing = client.get(reverse("web:webhooks")).content.decode()
    assert receiver.url in listing and endpoint.secret not in listing
    assert endpoint.secret not in client.get(reverse("web:webhook", args=[endpoint.pk])).content.decode()


def test_a_bad_url_is_a_form_error_and_nothing_is_saved(make_firm):
    client = client_for(owner(make_firm()))
    response = client.post(reverse("web:webhooks"), {"url": "ftp://x.example.com/", "event_types": ["contract.paid"]})
    assert response.status_code == 400
    assert "Not allowed: the URL must start with https://." in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_a_member_who_is_not_an_owner_gets_403(make_firm, actor_for):
    firm = make_firm()
    membership = orgs.member_add(actor=actor_for(firm), organization=firm, username="colleague2", email="c@example.com",
                                 password="a-Long-enough-pass-2026", role=Membership.Role.MEMBER)
    response = client_for(membership.user).get(reverse("web:webhooks"))
    assert response.status_code == 403
    assert "Only an owner of the firm can manage webhooks." in response.content.decode()


def test_another_firms_endpoint_is_404_on_every_page_and_action(make_firm, make_endpoint):
    mine, theirs = make_firm(), make_firm()
    endpoint, _ = make_endpoint(theirs, "https://hooks.example.com/x")
    client = client_for(owner(mine))
    assert client.get(reverse("web:webhook", args=[endpoint.pk])).status_code == 404
    for name in ("web:webhook-disable", "web:webhook-rotate"):
        assert client.post(reverse(name, args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("web:webhook-replay", args=[endpoint.pk, "msg_x"])).status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.previous_secret == ""


def test_edit_disable_enable_and_rotate(make_firm, make_endpoint):
    firm = make_firm()
    endpoint, old = make_endpoint(firm, "https://hooks.example.com/x", events=["contract.paid"])
    client = client_for(owner(firm))

    saved = client.post(reverse("web:webhook", args=[endpoint.pk]), {
        "url": "https://hooks.example.com/y", "event_types": ["contract.paid", "delivery.ready"], "description": "new"})
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types, endpoint.description) == (
        "https://hooks.example.com/y", ["contract.paid", "delivery.ready"], "new")
    client.post(reverse("web:webhook-disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    client.post(reverse("web:webhook-enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active is True
    rotated = client.post(reverse("web:webhook-rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert rotated.status_code == 200 and rotated["Cache-Control"] == "no-store"
    assert endpoint.secret in rotated.content.decode() and endpoint.previous_secret == old


def test_the_log_shows_attempts_and_replay_sends_again(make_firm, make_endpoint, receiver):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, receiver.url)
    svc.emit("contract.paid", firm, {"contract": "c-1"})
    receiver.fail_first = 1
    deliver_webhooks(str(endpoint.pk), now=timezone.now().isoformat())
    client = client_for(owner(firm))
    message = WebhookMessage.objects.get()

    page = client.get(reverse("web:webhook", args=[endpoint.pk])).content.decode()
    assert message.msg_id in page and "answer 503 to call 1" in page
    assert '<span class="chip">replay</span>' not in page

    replay = client.post(reverse("web:webhook-replay", args=[endpoint.pk, message.msg_id]))
    assert replay.status_code == 302
    deliver_webhooks(str(endpoint.pk), now=timezone.now().isoformat())
    message.refresh_from_db()
    assert message.status == "delivered"
    assert '<span class="chip">replay</span>' in client.get(reverse("web:webhook", args=[endpoint.pk])).content.decode()
