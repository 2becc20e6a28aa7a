"""Trading pages: buying an offer, the buyer's requests and contracts, the seller's incoming
requests and sales, and the firm's wallet.

Thin views: a form, one service call, a redirect with a message. A service's refusal
(DomainError) becomes a form error or an error message; another firm's objects are 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import AccessRequest, Contract, Offer, RevenueShare
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import lineage as lineage_sel
from exchange.selectors import quality as quality_sel
from exchange.selectors import trading as trading_sel
from exchange.services import ledger
from exchange.services import trading as trading_svc
from exchange.services.subscriptions import subscription_ends_at
from exchange.templatetags.shujiao_trading import buyer_refusal
from exchange.web import present
from exchange.web.forms import PurchaseForm, RejectForm, SandboxTopupForm, apply_domain_error
from exchange.web.views.common import firm_required

PAGE_SIZE = 20


# --- Helpers ----------------------------------------------------------------------

def _page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _with_delivery(queryset):
    """Fetch each contract's deliveries with the page (one query; ``Contract.delivery`` reads them)."""
    if any(getattr(lookup, "prefetch_through", lookup) == "deliveries" for lookup in queryset._prefetch_related_lookups):
        return queryset  # the selector already fetches them
    return queryset.prefetch_related("deliveries")


def _delivery_link(delivery) -> dict:
    """One delivery for a page: the object (its version), status, label and the delivery page's link."""
    try:
        url = reverse("web:delivery", args=[delivery.pk])
    except NoReverseMatch:
        url = ""
    return {"obj": delivery, "status": delivery.status, "label": delivery.get_status_display(), "url": url}


def _delivery_view(contract) -> dict | None:
    """The contract's initial delivery (status and link), or None when it has none yet."""
    delivery = contract.delivery
    return _delivery_link(delivery) if delivery is not None else None


def _deliveries_view(contract) -> list[dict]:
    """Every delivery of the contract: the initial one and a subscription's updates, in the order the
    selector fetched them (by version). Read from the prefetched ``deliveries``: no query per row."""
    return [_delivery_link(d) for d in contract.deliveries.all()]


def _insufficient_message(exc: ledger.InsufficientFunds) -> str:
    """The ledger speaks fen; the web speaks CNY."""
    try:
        balance = int(exc.fields["balance_fen"][0])
        needed = int(exc.fields["needed_fen"][0])
    except (KeyError, IndexError, TypeError, ValueError):
        return exc.message
    return (f"Insufficient funds: your wallet holds {present.money(balance)} but {present.money(needed)} is needed "
            f"(short by {present.money(needed - balance)}). Top up your wallet, then pay.")


def _escrow_until(contract) -> str:
    if contract.acceptance_days:
        return (f"until you accept the delivery (at the latest {contract.acceptance_days} days after it is ready, "
                "unless you report a problem)")
    return "until the delivery is ready"


def _contract_row(contract) -> dict:
    commission = ledger.commission_fen(price_fen=contract.price_fen, basis_points=contract.commission_bp)
    return {"c": contract, "price": present.money(contract.price_fen), "commission": present.money(commission),
            "payout": present.money(contract.price_fen - commission), "delivery": _delivery_view(contract),
            "deliveries": _deliveries_view(contract)}


def _sale_row(contract) -> dict:
    """A sales-page row: the contract row plus the revenue share its settlement paid upstream (lineage)."""
    row = _contract_row(contract)
    try:
        share = contract.revenue_share  # joined by the sales query
    except RevenueShare.DoesNotExist:
        return row
    row.update(share=share, share_amount=present.money(share.share_fen),
               payout=present.money(share.base_fen - share.share_fen))
    return row


# --- Buying -----------------------------------------------------------------------

def _visible_offer(firm, offer_id):
    """The offer and its listing if the firm may see the listing (published, or its own); else 404."""
    offer = Offer.objects.filter(pk=offer_id).first()
    listing = catalog_sel.listing_visible(listing_id=offer.listing_id, organization=firm) if offer else None
    if listing is None:
        raise Http404("No such offer.")
    return offer, listing


def _buy_page(request, offer, listing, form, *, status=200):
    firm = request.current_firm
    code, reason = buyer_refusal(user=request.user, firm=firm, seller_id=listing.dataset.owner_id)
    wallet = trading_sel.wallet_summary(organization=firm)
    state = trading_sel.offer_states_for(organization=firm, offers=[offer]).get(offer.pk) or {}
    short_fen = max(offer.price_fen - wallet["balance_fen"], 0)
    report = quality_sel.stored_report(listing.version)
    return render(request, "exchange/trading/buy.html", {
        "offer": offer, "listing": listing, "seller": listing.dataset.owner, "report": report,
        "price": present.money(offer.price_fen), "balance": present.money(wallet["balance_fen"]),
        "short": present.money(short_fen) if short_fen else "", "refusal": code, "reason": reason,
        "request_obj": state.get("request"), "contract": state.get("contract"), "form": form,
        "demo_mode": settings.DEMO_MODE,
    }, status=status)


@firm_required
def offer_buy(request, offer_id):
    """GET: the offer's terms, the wallet and the purpose form. POST: buy now or request access."""
    offer, listing = _visible_offer(request.current_firm, offer_id)
    form = PurchaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access = trading_svc.access_request_create(actor=Actor.from_request(request), offer=offer,
                                                       purpose=form.cleaned_data["purpose"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return _after_request(request, access, offer)
    return _buy_page(request, offer, listing, form)


def _after_request(request, access: AccessRequest, offer: Offer):
    title = offer.listing.title
    if access.status == AccessRequest.Status.PENDING:
        messages.success(request, f"Access to “{title}” requested from {access.seller.name}. "
                                  "You can pay once the seller approves it.")
        return redirect("web:my-requests")
    contract = trading_sel.contracts_for(organization=request.current_firm, role="buyer").filter(
        access_request=access).first()
    if contract is not None and contract.status == Contract.Status.PAID:
        messages.success(request, f"Bought “{title}”: {present.money(contract.price_fen)} is held in escrow "
                                  f"{_escrow_until(contract)}.")
    elif contract is not None:
        balance = trading_sel.wallet_summary(organization=request.current_firm)["balance_fen"]
        messages.warning(request, f"Approved, but not paid: your wallet holds {present.money(balance)}, less than "
                                  f"the price of {present.money(contract.price_fen)}. Top up your wallet, then pay.")
    return redirect("web:my-contracts")


@firm_required
def my_requests(request):
    requests = trading_sel.access_requests_for(organization=request.current_firm, direction="outgoing")
    page = _page_of(request, requests)
    return render(request, "exchange/trading/my_requests.html", {
        "page": page, "rows": [{"r": r, "price": present.money(r.offer.price_fen)} for r in page.object_list]})


@firm_required
@require_POST
def request_cancel(request, request_id):
    access = get_object_or_404(trading_sel.access_requests_for(organization=request.current_firm,
                                                               direction="outgoing"), pk=request_id)
    try:
        trading_svc.access_request_cancel(actor=Actor.from_request(request), request=access)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Your request for “{access.listing.title}” is cancelled.")
    return redirect("web:my-requests")


@firm_required
def my_contracts(request):
    firm = request.current_firm
    contracts = _with_delivery(trading_sel.contracts_for(organization=firm, role="buyer"))
    page = _page_of(request, contracts)
    return render(request, "exchange/trading/my_contracts.html", {
        "page": page, "rows": [_contract_row(c) for c in page.object_list],
        "balance": present.money(trading_sel.wallet_summary(organization=firm)["balance_fen"]),
    })


@firm_required
@require_POST
def contract_pay(request, contract_id):
    contract = get_object_or_404(trading_sel.contracts_for(organization=request.current_firm, role="buyer"),
                                 pk=contract_id)
    try:
        trading_svc.contract_pay(actor=Actor.from_request(request), contract=contract)
    except ledger.InsufficientFunds as exc:
        messages.error(request, _insufficient_message(exc))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Paid {present.money(contract.price_fen)} for “{contract.listing.title}”; "
                                  f"it is held in escrow {_escrow_until(contract)}.")
    return redirect("web:my-contracts")


@firm_required
def contract_detail(request, contract_id):
    """A contract's frozen terms and licence text, for either party."""
    contract = get_object_or_404(_with_delivery(trading_sel.contracts_for(organization=request.current_firm)),
                                 pk=contract_id)
    from workers.quality.guarantee import describe

    return render(request, "exchange/trading/contract.html", {
        **_contract_row(contract), "is_buyer": contract.buyer_id == request.current_firm.pk,
        "disputes": list(contract.disputes.order_by("-created_at")), "guarantee": describe(contract.guarantee),
        "refunded": present.money(contract.refunded_fen) if contract.refunded_fen else "",
        "deliveries": sorted(contract.deliveries.all(), key=lambda d: (d.dataset_version.number, d.created_at)),
        "subscription_ends_at": subscription_ends_at(contract)})


# --- Selling ----------------------------------------------------------------------

def _incoming_page(request, *, failed_id=None, failed_form=None, status=200):
    incoming = trading_sel.access_requests_for(organization=request.current_firm, direction="incoming")
    pending = incoming.filter(status=AccessRequest.Status.PENDING).order_by("created_at", "pk")
    page = _page_of(request, incoming.exclude(status=AccessRequest.Status.PENDING))
    rows = []
    for r in pending:
        form = failed_form if r.pk == failed_id else RejectForm(auto_id=f"id_{r.pk.hex[:8]}_%s")
        rows.append({"r": r, "price": present.money(r.offer.price_fen), "reject_form": form})
    return render(request, "exchange/trading/incoming.html", {
        "pending": rows, "page": page,
        "decided": [{"r": r, "price": present.money(r.offer.price_fen)} for r in page.object_list],
    }, status=status)


def _incoming_request(request, request_id) -> AccessRequest:
    return get_object_or_404(trading_sel.access_requests_for(organization=request.current_firm,
                                                             direction="incoming"), pk=request_id)


@firm_required
def incoming_requests(request):
    return _incoming_page(request)


@firm_required
@require_POST
def request_approve(request, request_id):
    """Approving charges the buyer at once: the first POST (the Approve button) shows a page
    that says what happens, with the price; only its "Yes, approve" POST approves. No script needed."""
    access = _incoming_request(request, request_id)
    if request.POST.get("confirm") != "yes":
        return render(request, "exchange/trading/request_approve_confirm.html", {
            "r": access, "price": present.money(access.offer.price_fen)})
    try:
        access = trading_svc.access_request_approve(actor=Actor.from_request(request), request=access)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        contract = trading_sel.contracts_for(organization=request.current_firm, role="seller").filter(
            access_request=access).first()
        paid = contract is not None and contract.status == Contract.Status.PAID
        messages.success(request, f"Approved {access.buyer.name}'s request for “{access.listing.title}”. " + (
            "The buyer's payment is in escrow." if paid else "The contract awaits the buyer's payment."))
    return redirect("web:incoming-requests")


@firm_required
@require_POST
def request_reject(request, request_id):
    access = _incoming_request(request, request_id)
    form = RejectForm(request.POST, auto_id=f"id_{access.pk.hex[:8]}_%s")
    if form.is_valid():
        try:
            trading_svc.access_request_reject(actor=Actor.from_request(request), request=access,
                                              reason=form.cleaned_data["reason"])
        except DomainError as exc:
            if exc.fields:
                apply_domain_error(form, exc)
            else:  # decided meanwhile: nothing to fix in the form
                messages.error(request, exc.message)
                return redirect("web:incoming-requests")
        else:
            messages.success(request, f"Rejected {access.buyer.name}'s request for “{access.listing.title}”.")
            return redirect("web:incoming-requests")
    return _incoming_page(request, failed_id=access.pk, failed_form=form)


@firm_required
def sales(request):
    firm = request.current_firm
    contracts = _with_delivery(trading_sel.sales_for(organization=firm)).select_related("revenue_share__upstream_seller")
    page = _page_of(request, contracts)
    wallet = trading_sel.wallet_summary(organization=firm)
    received = list(lineage_sel.shares_received(firm)[:50])
    return render(request, "exchange/trading/sales.html", {
        "page": page, "rows": [_sale_row(c) for c in page.object_list],
        "shares_received": [{"s": s, "amount": present.money(s.share_fen), "base": present.money(s.base_fen)}
                            for s in received],
        "in_escrow": present.money(wallet["in_escrow_as_seller_fen"]),
        "commission_percent": f"{settings.TRADING_COMMISSION_BP / 100:g}",
    })


# --- Wallet -----------------------------------------------------------------------

def _wallet_page(request, *, topup_form=None, status=200):
    firm = request.current_firm
    wallet = trading_sel.wallet_summary(organization=firm)
    page = _page_of(request, trading_sel.ledger_entries_for(organization=firm))
    entries = [{"e": e, "amount": ("+" if e.amount > 0 else "") + present.money(e.amount),
                "balance_after": present.money(e.balance_after)} for e in page.object_list]
    return render(request, "exchange/trading/wallet.html", {
        "wallet": wallet, "page": page, "entries": entries,
        "balance": present.money(wallet["balance_fen"]),
        "escrow_buyer": present.money(wallet["in_escrow_as_buyer_fen"]),
        "escrow_seller": present.money(wallet["in_escrow_as_seller_fen"]),
        "demo_mode": settings.DEMO_MODE,
        "topup_form": topup_form or SandboxTopupForm(),
    }, status=status)


@firm_required
def wallet(request):
    return _wallet_page(request)


@firm_required
@require_POST
def wallet_topup(request):
    form = SandboxTopupForm(request.POST)
    if form.is_valid():
        try:
            trading_svc.wallet_sandbox_topup(actor=Actor.from_request(request), amount_fen=form.cleaned_data["amount"])
        except DomainError as exc:
            apply_domain_error(form, exc, field_map=SandboxTopupForm.FIELD_MAP)
        else:
            messages.success(request, f"Added {present.money(form.cleaned_data['amount'])} of demo money to your wallet.")
            return redirect("web:wallet")
    return _wallet_page(request, topup_form=form)
