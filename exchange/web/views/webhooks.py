"""Firm settings → Webhooks: endpoints, the secret shown once, the delivery log and replay.

Only an owner manages webhooks (the service decides; members get the 403 page). Another
firm's endpoint, like an unknown one, is the 404 page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from exchange.actor import Actor
from exchange.errors import DomainError, Forbidden, NotFound
from exchange.models import WebhookAttempt, WebhookMessage
from exchange.services import webhooks as svc
from exchange.web.forms import WebhookEndpointForm, apply_domain_error
from exchange.web.views.common import firm_required

LOG_ROWS = 50  # the page shows the latest attempts and messages; the API pages through all


def _forbidden(request, exc: Forbidden):
    return render(request, "exchange/error.html", {"status": 403, "message": exc.message}, status=403)


def _endpoint(request, endpoint_id):
    try:
        return svc.endpoint_get(actor=Actor.from_request(request), endpoint_id=endpoint_id)
    except NotFound:
        raise Http404("No such webhook endpoint.") from None


def _secret_page(request, endpoint, secret, *, rotated: bool):
    # Rendered, not redirected: the secret exists only in this response.
    response = render(request, "exchange/firm/webhook_secret.html", {"endpoint": endpoint, "secret": secret,
                                                                      "rotated": rotated})
    response["Cache-Control"] = "no-store"
    return response


@firm_required
def webhook_list(request):
    actor = Actor.from_request(request)
    try:
        endpoints = list(svc.endpoints_of(actor=actor))
    except Forbidden as exc:
        return _forbidden(request, exc)
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = svc.endpoint_create(actor=actor, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return _secret_page(request, endpoint, secret, rotated=False)
    return render(request, "exchange/firm/webhooks.html", {"endpoints": endpoints, "form": form},
                  status=400 if form.errors else 200)


@firm_required
def webhook_detail(request, endpoint_id):
    try:
        endpoint = _endpoint(request, endpoint_id)
    except Forbidden as exc:
        return _forbidden(request, exc)
    form = WebhookEndpointForm(request.POST or None, initial={
        "url": endpoint.url, "event_types": endpoint.event_types, "description": endpoint.description})
    if request.method == "POST" and form.is_valid():
        try:
            svc.endpoint_update(actor=Actor.from_request(request), endpoint=endpoint, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "The endpoint was saved.")
            return redirect("web:webhook", endpoint_id=endpoint.pk)
    return render(request, "exchange/firm/webhook_detail.html", {
        "endpoint": endpoint, "form": form,
        "attempts": WebhookAttempt.objects.filter(endpoint=endpoint).select_related("message")[:LOG_ROWS],
        "messages_": WebhookMessage.objects.filter(endpoint=endpoint).order_by("-seq")[:LOG_ROWS],
    }, status=400 if form.errors else 200)


def _post_action(request, endpoint_id, run, done: str):
    try:
        endpoint = _endpoint(request, endpoint_id)
        result = run(Actor.from_request(request), endpoint)
    except Forbidden as exc:
        return _forbidden(request, exc)
    except NotFound as exc:
        if exc.message == "No such webhook endpoint.":
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if isinstance(result, tuple):  # a rotation: show the new secret once
            return _secret_page(request, result[0], result[1], rotated=True)
        messages.success(request, done)
    return redirect("web:webhook", endpoint_id=endpoint_id)


@firm_required
@require_POST
def webhook_enable(request, endpoint_id):
    return _post_action(request, endpoint_id, lambda actor, e: svc.endpoint_set_enabled(actor=actor, endpoint=e,
                                                                                        enabled=True),
                        "The endpoint is enabled; messages still pending are sent now, oldest first.")


@firm_required
@require_POST
def webhook_disable(request, endpoint_id):
    return _post_action(request, endpoint_id, lambda actor, e: svc.endpoint_set_enabled(actor=actor, endpoint=e,
                                                                                        enabled=False),
                        "The endpoint is disabled; new events are not queued for it.")


@firm_required
@require_POST
def webhook_rotate(request, endpoint_id):
    return _post_action(request, endpoint_id, lambda actor, e: svc.endpoint_rotate_secret(actor=actor, endpoint=e), "")


@firm_required
@require_POST
def webhook_replay(request, endpoint_id, msg_id):
    return _post_action(request, endpoint_id, lambda actor, e: svc.message_replay(actor=actor, endpoint=e, msg_id=msg_id),
                        f"Message {msg_id} will be sent again.")
