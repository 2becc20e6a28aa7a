"""Firm settings: details, members and API keys."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import Membership
from exchange.services import orgs as orgs_svc
from exchange.web.forms import ApiKeyCreateForm, MemberAddForm, apply_domain_error
from exchange.web.views.common import firm_required


def _page(request, *, member_form=None, key_form=None, status=200):
    firm = request.current_firm
    is_owner = request.user.membership.role == Membership.Role.OWNER
    return render(request, "exchange/firm/settings.html", {
        "org": firm, "is_owner": is_owner,
        "members": firm.memberships.select_related("user").order_by("created_at"),
        "keys": firm.api_keys.all(),
        "member_form": member_form or MemberAddForm(),
        "key_form": key_form or ApiKeyCreateForm(),
    }, status=status)


@firm_required
def firm_settings(request):
    return _page(request)


@firm_required
@require_POST
def member_add(request):
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership = orgs_svc.member_add(actor=Actor.from_request(request), organization=request.current_firm,
                                             **form.service_arguments())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"{membership.user.username} was added as {membership.get_role_display().lower()}.")
            return redirect("web:firm")
    return _page(request, member_form=form)


@firm_required
@require_POST
def api_key_create(request):
    form = ApiKeyCreateForm(request.POST)
    if form.is_valid():
        try:
            key, secret = orgs_svc.api_key_create(actor=Actor.from_request(request), **form.service_arguments())
        except DomainError as exc:
            apply_domain_error(form, exc, field_map={"expires_at": "expires_on"})
        else:
            # Rendered, not redirected: the secret exists only in this response.
            response = render(request, "exchange/firm/api_key_created.html", {"key": key, "secret": secret})
            response["Cache-Control"] = "no-store"
            return response
    return _page(request, key_form=form)


@firm_required
@require_POST
def api_key_revoke(request, key_id):
    key = get_object_or_404(request.current_firm.api_keys, pk=key_id)
    try:
        orgs_svc.api_key_revoke(actor=Actor.from_request(request), key=key)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"API key “{key.name}” ({key.prefix}…) is revoked.")
    return redirect("web:firm")
