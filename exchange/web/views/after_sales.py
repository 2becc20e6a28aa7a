"""After-sales pages: accept a delivery, report a problem (dispute), the dispute's timeline
for buyer and seller with the seller's response, and the notification list.

Thin views: a form, one service call, a redirect with a message; a refusal becomes a form
error; another firm's objects are 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from exchange.actor import Actor
from exchange.errors import DomainError, NotFound
from exchange.models import Contract, Dispute
from exchange.selectors import disputes as dispute_sel
from exchange.selectors import trading as trading_sel
from exchange.services import disputes as dispute_svc
from exchange.services import escrow
from exchange.services import notifications as notes
from exchange.web import present
from exchange.web.forms import apply_domain_error
from exchange.web.views.common import firm_required
from workers.quality.guarantee import describe


class DisputeForm(forms.Form):
    kind = forms.ChoiceField(label="What is wrong?", choices=Dispute.Kind.choices)
    text = forms.CharField(label="Describe the problem", max_length=5000,
                           error_messages={"required": "Describe the problem so staff and the seller can act."},
                           widget=forms.Textarea(attrs={"rows": 5}))


class ResponseForm(forms.Form):
    text = forms.CharField(label="Your response (once)", max_length=5000,
                           error_messages={"required": "Write a response."}, widget=forms.Textarea(attrs={"rows": 4}))


def _contract(request, contract_id) -> Contract:
    return get_object_or_404(trading_sel.contracts_for(organization=request.current_firm), pk=contract_id)


@firm_required
@require_POST
def contract_accept(request, contract_id):
    contract = _contract(request, contract_id)
    try:
        escrow.contract_accept(actor=Actor.from_request(request), contract_id=contract.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Delivery accepted: the price was released to the seller.")
    return redirect("web:contract", contract.pk)


@firm_required
def dispute_new(request, contract_id):
    """'Report a problem': the buyer opens a dispute inside the acceptance window."""
    contract = _contract(request, contract_id)
    form = DisputeForm(request.POST or None)
    if not contract.guarantee:
        form.fields["kind"].choices = [c for c in Dispute.Kind.choices if c[0] != Dispute.Kind.QUALITY]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                dispute = dispute_svc.dispute_open(actor=Actor.from_request(request), contract_id=contract.pk,
                                                   kind=form.cleaned_data["kind"], text=form.cleaned_data["text"])
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, "Problem reported. The acceptance window is paused until it is decided.")
                return redirect("web:dispute", dispute.pk)
        status = 400
    return render(request, "exchange/after_sales/dispute_new.html", {
        "c": contract, "form": form, "guarantee": describe(contract.guarantee),
        "is_buyer": contract.buyer_id == request.current_firm.pk}, status=status)


def _timeline(d: Dispute) -> list[tuple]:
    steps = [(d.created_at, "Problem reported by the buyer", d.text)]
    if d.seller_responded_at:
        steps.append((d.seller_responded_at, "Seller responded", d.seller_response))
    if d.recheck_finished_at:
        what = {True: "Re-check: the guarantee held", False: "Re-check: the guarantee failed"}.get(
            d.recheck_passed, "Re-check could not run")
        steps.append((d.recheck_finished_at, what, d.recheck_error))
    if d.decided_at:
        steps.append((d.decided_at, f"Decided: {d.get_status_display()}", d.decision_reason))
    return steps


def _dispute(request, dispute_id) -> Dispute:
    try:
        return dispute_sel.dispute_for(organization=request.current_firm, dispute_id=dispute_id)
    except NotFound:
        raise Http404("No such dispute.") from None


@firm_required
def dispute_detail(request, dispute_id, *, form=None, status=200):
    dispute = _dispute(request, dispute_id)
    is_seller = dispute.seller_id == request.current_firm.pk
    can_respond = is_seller and dispute.is_open and dispute.seller_responded_at is None
    return render(request, "exchange/after_sales/dispute.html", {
        "d": dispute, "c": dispute.contract, "timeline": _timeline(dispute), "is_seller": is_seller,
        "form": (form or ResponseForm()) if can_respond else None,
        "checks": (dispute.recheck_result or {}).get("checks", []),
        "refund": present.money(dispute.refund_fen) if dispute.refund_fen else "",
        "guarantee": describe(dispute.contract.guarantee)}, status=status)


@firm_required
@require_POST
def dispute_respond(request, dispute_id):
    form = ResponseForm(request.POST)
    if form.is_valid():
        try:
            dispute_svc.dispute_respond(actor=Actor.from_request(request), dispute_id=dispute_id,
                                        text=form.cleaned_data["text"])
        except NotFound:
            raise Http404("No such dispute.") from None
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "Response sent.")
            return redirect("web:dispute", dispute_id)
    return dispute_detail.__wrapped__(request, dispute_id, form=form, status=400)  # firm already checked


@firm_required
def notification_list(request):
    actor = Actor.from_request(request)
    page = Paginator(notes.notifications_of(actor=actor), 30).get_page(request.GET.get("page"))
    return render(request, "exchange/after_sales/notifications.html", {"page": page})


@firm_required
@require_POST
def notifications_read(request):
    notes.notifications_mark_read(actor=Actor.from_request(request))
    return redirect("web:notifications")
