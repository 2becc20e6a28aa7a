"""Firm settings: the age encryption keys deliveries are encrypted to."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.services import age_recipients as age_svc
from exchange.web.forms import AgeRecipientAddForm, AgeRecipientVerifyForm, apply_domain_error
from exchange.web.views.common import firm_required


def _page(request, *, add_form=None, verify_forms=None, status=200):
    firm = request.current_firm
    recipients = list(age_svc.age_recipients_of(organization=firm))
    verify_forms = verify_forms or {}
    for rec in recipients:
        rec.verify_form = verify_forms.get(rec.pk) or AgeRecipientVerifyForm(prefix=str(rec.pk))
    return render(request, "exchange/firm/age_keys.html", {
        "org": firm, "recipients": recipients, "add_form": add_form or AgeRecipientAddForm(),
    }, status=status)


@firm_required
def age_keys(request):
    return _page(request)


@firm_required
@require_POST
def age_key_add(request):
    form = AgeRecipientAddForm(request.POST)
    if form.is_valid():
        try:
            age_svc.age_recipient_add(actor=Actor.from_request(request), organization=request.current_firm,
                                      **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "Key registered. Decrypt the challenge below with its identity to verify it.")
            return redirect("web:age-keys")
    return _page(request, add_form=form, status=400)


@firm_required
@require_POST
def age_key_verify(request, recipient_id):
    form = AgeRecipientVerifyForm(request.POST, prefix=str(recipient_id))
    if form.is_valid():
        try:
            age_svc.age_recipient_verify(actor=Actor.from_request(request), organization=request.current_firm,
                                         recipient_id=recipient_id, answer=form.cleaned_data["answer"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "Key verified: your next deliveries are encrypted to it.")
            return redirect("web:age-keys")
    return _page(request, verify_forms={recipient_id: form}, status=400)


@firm_required
@require_POST
def age_key_revoke(request, recipient_id):
    try:
        age_svc.age_recipient_revoke(actor=Actor.from_request(request), organization=request.current_firm,
                                     recipient_id=recipient_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Key revoked: no further delivery is encrypted to it.")
    return redirect("web:age-keys")
