"""Webhooks (SPEC §9): a firm's endpoints and ``emit``, the one way events enter the outbox.

Services that change a state the firms' systems care about call
``emit(event_type, organization, data)`` inside their own transaction: one outbox row
(``WebhookMessage``) per subscribed endpoint is written with the state change, and the
send task is published after commit. A rolled-back change therefore sends nothing, and a
committed one is sent even if the broker was down (the sweeper finds the due row).
Sending, retries and the log live in ``exchange.services.webhook_delivery``.

Managing endpoints needs an owner's session or an API key with the ``webhooks`` scope;
another firm's endpoint is "not found", exactly like an unknown id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import Membership, Organization, WebhookEndpoint, WebhookMessage
from exchange.models.webhooks import EVENT_TYPES
from exchange.services.audience import Audience
from exchange.services.audit import audit_record
from exchange.services.dispatch import enqueue_on_commit
from workers.webhooks import signing
from workers.webhooks.sender import url_problem

DELIVER_TASK = "shujiao.webhooks.deliver"
MAX_ENDPOINTS_PER_FIRM = 20


# --- Guards -----------------------------------------------------------------------
def _require_manager(actor: Actor) -> Organization:
    if actor.organization is None:
        raise Forbidden("Only members of a firm can manage webhooks.", code="no_firm")
    if actor.api_key is not None:
        if not actor.has_scope("webhooks"):
            raise Forbidden("This API key lacks the 'webhooks' scope.", code="missing_scope")
        return actor.organization
    membership = getattr(actor.user, "membership", None)
    if membership is None or membership.role != Membership.Role.OWNER:
        raise Forbidden("Only an owner of the firm can manage webhooks.", code="webhooks_need_owner")
    return actor.organization


def endpoints_of(*, actor: Actor):
    firm = _require_manager(actor)
    return WebhookEndpoint.objects.filter(organization=firm)


def endpoint_get(*, actor: Actor, endpoint_id: Any) -> WebhookEndpoint:
    """The actor's firm's endpoint; an unknown id, a malformed one and another firm's all answer the same."""
    firm = _require_manager(actor)
    try:
        pk = uuid.UUID(str(endpoint_id))
    except ValueError:
        raise NotFound("No such webhook endpoint.") from None
    endpoint = WebhookEndpoint.objects.filter(pk=pk, organization=firm).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


# --- Input -----------------------------------------------------------------------
def _clean_url(url: Any) -> str:
    url = str(url or "").strip()
    if not url:
        raise InvalidInput("Give the endpoint's URL.", fields={"url": ["A URL is required."]})
    problem = url_problem(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    if problem is None and not settings.WEBHOOK_ALLOW_PRIVATE and url.split("//", 1)[-1].split("/", 1)[0].split(":")[0] \
            .lower().rstrip(".") in ("localhost", "localhost.localdomain"):
        problem = "localhost is a loopback address"
    if problem:
        raise InvalidInput(f"This URL cannot receive webhooks: {problem}.", fields={"url": [f"Not allowed: {problem}."]})
    return url


def _clean_events(event_types: Any) -> list[str]:
    if isinstance(event_types, str) or not isinstance(event_types, Iterable):
        raise InvalidInput("Event types are a list.", fields={"event_types": ["Give a list of event types."]})
    chosen = sorted({str(e) for e in event_types})
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(f"Unknown event type {', '.join(unknown)}.",
                           fields={"event_types": [f"Unknown: {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}."]})
    if not chosen:
        raise InvalidInput("Choose at least one event type.", fields={"event_types": ["Choose at least one event type."]})
    return chosen


def _clean_description(description: Any) -> str:
    text = " ".join(str(description or "").split())
    if len(text) > 200:
        raise InvalidInput("The description is too long.", fields={"description": ["At most 200 characters."]})
    return text


# --- Endpoints --------------------------------------------------------------------
def endpoint_create(*, actor: Actor, url: Any, event_types: Any, description: Any = "") -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its ``whsec_`` secret, shown only this once."""
    firm = _require_manager(actor)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, cleaner, value in (("url", _clean_url, url), ("event_types", _clean_events, event_types),
                                 ("description", _clean_description, description)):
        try:
            clean[name] = cleaner(value)
        except InvalidInput as exc:
            errors.update(exc.fields)
    if errors:
        raise InvalidInput("The webhook endpoint has errors.", fields=errors)
    secret = signing.new_secret()
    with transaction.atomic():
        if WebhookEndpoint.objects.select_for_update().filter(organization=firm).count() >= MAX_ENDPOINTS_PER_FIRM:
            raise Conflict(f"A firm can have at most {MAX_ENDPOINTS_PER_FIRM} webhook endpoints.", code="too_many_endpoints")
        endpoint = WebhookEndpoint.objects.create(organization=firm, secret=secret, created_by=actor.user, **clean)
        audit_record(actor=actor, action="webhook_endpoint.created", obj=endpoint, organization=firm,
                     details={"url": endpoint.url, "event_types": endpoint.event_types})
    return endpoint, secret


def endpoint_update(*, actor: Actor, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    """Change the URL, the event types or the description (only the fields given)."""
    endpoint = endpoint_get(actor=actor, endpoint_id=endpoint.pk)
    cleaners = {"url": _clean_url, "event_types": _clean_events, "description": _clean_description}
    unknown = sorted(set(fields) - set(cleaners))
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(unknown)}.", fields={n: ["Not a changeable field."] for n in unknown})
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        try:
            clean[name] = cleaners[name](value)
        except InvalidInput as exc:
            errors.update(exc.fields)
    if errors:
        raise InvalidInput("The webhook endpoint has errors.", fields=errors)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        for name, value in clean.items():
            setattr(endpoint, name, value)
        endpoint.save()
        audit_record(actor=actor, action="webhook_endpoint.updated", obj=endpoint, organization=endpoint.organization,
                     details={name: clean[name] for name in sorted(clean)})
    return endpoint


def endpoint_set_enabled(*, actor: Actor, endpoint: WebhookEndpoint, enabled: bool) -> WebhookEndpoint:
    """Enable or disable an endpoint. Re-enabling sends what is still pending (oldest first)."""
    endpoint = endpoint_get(actor=actor, endpoint_id=endpoint.pk)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.is_active == enabled:
            raise Conflict(f"This endpoint is already {'enabled' if enabled else 'disabled'}.")
        endpoint.is_active, endpoint.disabled_reason = enabled, "" if enabled else "Disabled by the firm."
        endpoint.save(update_fields=["is_active", "disabled_reason", "updated_at"])
        audit_record(actor=actor, action="webhook_endpoint.enabled" if enabled else "webhook_endpoint.disabled",
                     obj=endpoint, organization=endpoint.organization, details={"url": endpoint.url})
        if enabled:
            WebhookMessage.objects.filter(endpoint=endpoint, status=WebhookMessage.Status.PENDING).update(
                next_attempt_at=timezone.now())
            enqueue_on_commit(DELIVER_TASK, str(endpoint.pk))
    return endpoint


def endpoint_rotate_secret(*, actor: Actor, endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the old one also signs for WEBHOOK_ROTATION_OVERLAP_HOURS."""
    endpoint = endpoint_get(actor=actor, endpoint_id=endpoint.pk)
    secret = signing.new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(hours=settings.WEBHOOK_ROTATION_OVERLAP_HOURS)
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
        audit_record(actor=actor, action="webhook_endpoint.secret_rotated", obj=endpoint,
                     organization=endpoint.organization,
                     details={"previous_secret_expires_at": endpoint.previous_secret_expires_at})
    return endpoint, secret


def message_replay(*, actor: Actor, endpoint: WebhookEndpoint, msg_id: Any) -> WebhookMessage:
    """Send a message again (same ``webhook-id``), with a fresh retry window."""
    endpoint = endpoint_get(actor=actor, endpoint_id=endpoint.pk)
    now = timezone.now()
    with transaction.atomic():
        message = WebhookMessage.objects.select_for_update().filter(endpoint=endpoint, msg_id=str(msg_id)).first()
        if message is None:
            raise NotFound("No such webhook message.")
        if message.status == WebhookMessage.Status.PENDING and message.manual_next:
            raise Conflict("This message is already waiting to be sent again.")
        message.status, message.failures, message.manual_next = WebhookMessage.Status.PENDING, 0, True
        message.window_started_at = message.next_attempt_at = now
        message.save(update_fields=["status", "failures", "manual_next", "window_started_at", "next_attempt_at"])
        audit_record(actor=actor, action="webhook_message.replayed", obj=endpoint, organization=endpoint.organization,
                     details={"webhook_id": message.msg_id, "event_type": message.event_type})
        enqueue_on_commit(DELIVER_TASK, str(endpoint.pk))
    return message


# --- Events ----------------------------------------------------------------------
def _body(event_type: str, now, data: dict[str, Any]) -> str:
    payload = {"type": event_type, "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "data": data}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def emit(event_type: str, organization: Organization | Iterable[Organization], data: dict[str, Any], *,
         audience: Audience | None = None) -> int:
    """Queue ``event_type`` for every enabled endpoint of the firm(s) that subscribed to it.

    Call it inside the transaction of the state change. ``data`` carries ids and states
    only — never dataset content. ``audience`` (looked up before the transaction, see
    ``services.audience``) saves the endpoint query. Returns how many messages were written.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    firms = [organization] if isinstance(organization, Organization) else list(organization)
    firm_ids = {firm.pk for firm in firms if firm is not None}
    if audience is not None:
        endpoints = audience.endpoints_for(firm_ids, event_type)
    else:
        endpoints = [e for e in WebhookEndpoint.objects.filter(organization_id__in=firm_ids, is_active=True)
                     .order_by("created_at") if e.wants(event_type)]
    if not endpoints:
        return 0
    now = timezone.now()
    body = _body(event_type, now, data)
    WebhookMessage.objects.bulk_create([
        WebhookMessage(msg_id=f"msg_{uuid.uuid4().hex}", endpoint=endpoint, event_type=event_type, body=body,
                       created_at=now, window_started_at=now, next_attempt_at=now)
        for endpoint in endpoints])
    for endpoint in endpoints:
        enqueue_on_commit(DELIVER_TASK, str(endpoint.pk))
    return len(endpoints)
