"""Endpoint management: the secret shown once, who may manage, input errors, rotation."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import AuditEvent, Membership, WebhookEndpoint
from exchange.services import orgs
from exchange.services import webhooks as svc

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/shujiao"


def test_an_owner_creates_an_endpoint_and_gets_a_whsec_secret_once(make_firm, actor_for):
    firm = make_firm()

    endpoint, secret = svc.endpoint_create(actor=actor_for(firm), url=URL, event_types=["delivery.ready", "contract.paid"],
                                           description="  ERP   connector ")

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) >= 24
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (stored.url, stored.event_types, stored.description, stored.is_active) == (
        URL, ["contract.paid", "delivery.ready"], "ERP connector", True)
    assert stored.secret == secret
    event = AuditEvent.objects.get(action="webhook_endpoint.created")
    assert event.object_id == str(endpoint.pk)
    assert secret not in str(event.details)


def test_a_key_with_the_webhooks_scope_may_manage_and_other_keys_may_not(make_firm, key_actor):
    firm = make_firm()
    endpoint, _ = svc.endpoint_create(actor=key_actor(firm, ["webhooks"]), url=URL, event_types=["contract.paid"])
    assert endpoint.organization_id == firm.pk
    for scopes in (["read"], ["read", "sell", "buy"]):
        with pytest.raises(Forbidden) as exc:
            svc.endpoint_create(actor=key_actor(firm, scopes), url=URL, event_types=["contract.paid"])
        assert exc.value.code == "missing_scope"
        with pytest.raises(Forbidden):
            svc.endpoints_of(actor=key_actor(firm, scopes))
    assert WebhookEndpoint.objects.count() == 1


def test_a_member_who_is_not_an_owner_may_not_manage(make_firm, actor_for):
    firm = make_firm()
    membership = orgs.member_add(actor=actor_for(firm), organization=firm, username="colleague", email="c@example.com",
                                 password="a-Long-enough-pass-2026", role=Membership.Role.MEMBER)
    member = Actor(type="user", user=membership.user, organization=firm)
    with pytest.raises(Forbidden) as exc:
        svc.endpoint_create(actor=member, url=URL, event_types=["contract.paid"])
    assert exc.value.code == "webhooks_need_owner"
    assert WebhookEndpoint.objects.count() == 0


def test_another_firms_endpoint_answers_exactly_like_an_unknown_id(make_firm, actor_for, make_endpoint):
    mine, theirs = make_firm(), make_firm()
    their_endpoint, _ = make_endpoint(theirs, URL)
    answers = []
    for endpoint_id in (their_endpoint.pk, "0b9a8c4e-2f49-4e41-9d7f-4f3b9c1d2e3f", "not-a-uuid"):
        with pytest.raises(NotFound) as exc:
            svc.endpoint_get(actor=actor_for(mine), endpoint_id=endpoint_id)
        answers.append((exc.value.code, exc.value.message, exc.value.status))
    assert answers == [("not_found", "No such webhook endpoint.", 404)] * 3
    with pytest.raises(NotFound):
        svc.endpoint_rotate_secret(actor=actor_for(mine), endpoint=their_endpoint)
    with pytest.raises(NotFound):
        svc.endpoint_set_enabled(actor=actor_for(mine), endpoint=their_endpoint, enabled=False)
    assert WebhookEndpoint.objects.get(pk=their_endpoint.pk).is_active


@pytest.mark.parametrize(("url", "events", "field", "message"), [
    ("", ["contract.paid"], "url", "A URL is required."),
    ("http://hooks.example.com/x", ["contract.paid"], "url", "Not allowed: the URL must use https://."),
    ("https://10.0.0.5/x", ["contract.paid"], "url", "Not allowed: 10.0.0.5 is a private, loopback or link-local address."),
    ("https://localhost/x", ["contract.paid"], "url", "Not allowed: localhost is a loopback address."),
    (URL, [], "event_types", "Choose at least one event type."),
    (URL, ["contract.stolen"], "event_types", "Unknown: contract.stolen; known: access_request.created, "
                                              "access_request.approved, access_request.rejected, "
                                              "access_request.cancelled, contract.paid, "
                                              "contract.delivered, contract.accepted, contract.settled, "
                                              "contract.refunded, contract.partially_refunded, dispute.opened, "
                                              "dispute.responded, dispute.rechecked, dispute.decided, delivery.ready, "
                                              "delivery.failed, version.checked, listing.reviewed, listing.revised, "
                                              "offer.retired."),
    (URL, "contract.paid", "event_types", "Give a list of event types."),
])
@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_bad_input_is_refused_naming_the_field(make_firm, actor_for, url, events, field, message):
    with pytest.raises(InvalidInput) as exc:
        svc.endpoint_create(actor=actor_for(make_firm()), url=url, event_types=events)
    assert exc.value.fields[field] == [message]
    assert WebhookEndpoint.objects.count() == 0


def test_update_changes_only_the_given_fields(make_firm, actor_for, make_endpoint):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, URL, events=["contract.paid"])
    svc.endpoint_update(actor=actor_for(firm), endpoint=endpoint, event_types=["delivery.ready", "delivery.failed"])
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types) == (URL, ["delivery.failed", "delivery.ready"])
    with pytest.raises(InvalidInput) as exc:
        svc.endpoint_update(actor=actor_for(firm), endpoint=endpoint, secret="whsec_mine")
    assert exc.value.fields == {"secret": ["Not a changeable field."]}


def test_disable_and_enable(make_firm, actor_for, make_endpoint):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, URL)
    svc.endpoint_set_enabled(actor=actor_for(firm), endpoint=endpoint, enabled=False)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "Disabled by the firm.")
    with pytest.raises(Conflict):
        svc.endpoint_set_enabled(actor=actor_for(firm), endpoint=endpoint, enabled=False)
    svc.endpoint_set_enabled(actor=actor_for(firm), endpoint=endpoint, enabled=True)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (True, "")
    assert list(AuditEvent.objects.filter(object_id=str(endpoint.pk)).values_list("action", flat=True).order_by("seq")) == [
        "webhook_endpoint.created", "webhook_endpoint.disabled", "webhook_endpoint.enabled"]


def test_rotation_signs_with_both_secrets_for_24_hours_then_only_the_new_one(make_firm, actor_for, make_endpoint):
    firm = make_firm()
    endpoint, old = make_endpoint(firm, URL)

    endpoint, new = svc.endpoint_rotate_secret(actor=actor_for(firm), endpoint=endpoint)

    now = timezone.now()
    assert new != old and new.startswith("whsec_")
    assert endpoint.signing_secrets(now) == [new, old]
    assert endpoint.signing_secrets(now + timedelta(hours=23, minutes=59)) == [new, old]
    assert endpoint.signing_secrets(now + timedelta(hours=24, minutes=1)) == [new]
    assert AuditEvent.objects.filter(action="webhook_endpoint.secret_rotated", object_id=str(endpoint.pk)).count() == 1
