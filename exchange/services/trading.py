"""Trading use cases: access requests, contracts, payment into escrow and wallet top-ups.
What happens to the money afterwards (release, refunds) lives in ``services.escrow``.

Each service checks state under a row lock, owns its transaction and audits inside it.
Lock order: request/contract row → ledger accounts → audit chain (audit events are
written after the money has moved; see exchange.services.ledger).
A purchase prepares what does not depend on locked state before its transaction (the
contract draft with its licence text, the webhook/notification audience, a first refusal
check), so the transaction itself is short: SQLite, the embedded default, has one writer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import (
    AccessRequest,
    Account,
    Contract,
    LedgerTransfer,
    Listing,
    Offer,
    Organization,
)
from exchange.money import format_yuan
from exchange.selectors.purchase import purchase_blocks
from exchange.services import ledger
from exchange.services.audience import Audience, audience_of
from exchange.services.audit import audit_record
from exchange.services.catalog_flat import catalog_changed
from exchange.services.escrow import contract_data
from exchange.services.licence import LICENCE_FORMAT, contract_draft, licence_render  # noqa: F401 (importable here)
from exchange.services.notifications import notify_contract, notify_request
from exchange.services.webhooks import emit

# A purpose must say what the data is for: at least a short sentence. Chinese packs more
# meaning per character than English, so its minimum is lower.
PURPOSE_MIN_CHARS = 15
PURPOSE_MIN_CHARS_CJK = 8


# --- Guards ---------------------------------------------------------------------
def _require_firm(actor: Actor, scope: str) -> Organization:
    if actor.organization is None:
        raise Forbidden("Only members of a firm can trade.", code="no_firm")
    if not actor.has_scope(scope):
        raise Forbidden(f"This API key lacks the '{scope}' scope.", code="missing_scope")
    return actor.organization


def _require_staff(actor: Actor) -> None:
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff can do this.")


def _clean_purpose(purpose: Any) -> str:
    text = " ".join(str(purpose or "").split())
    if not text:
        raise InvalidInput("State the purpose you will use the data for.", fields={"purpose": ["A purpose is required."]})
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    if len(text) < (PURPOSE_MIN_CHARS_CJK if cjk else PURPOSE_MIN_CHARS):
        raise InvalidInput("Describe the purpose in at least a sentence.",
                           fields={"purpose": ["At least a sentence saying what the data will be used for."]})
    if len(text) > 2000:
        raise InvalidInput("The purpose is too long.", fields={"purpose": ["At most 2000 characters."]})
    return text


def validate_amount_fen(value: Any, *, field: str = "amount_fen", maximum: int | None = None) -> int:
    """A positive whole number of fen (an int: not a bool, float or string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("Amounts are whole numbers of fen (1 CNY = 100 fen).",
                           fields={field: ["Enter a whole number of fen, e.g. 10000 for 100.00 CNY."]})
    if value <= 0:
        raise InvalidInput("The amount must be positive.", fields={field: ["Must be at least ¥0.01."]})
    limit = maximum if maximum is not None else settings.MAX_TOPUP_FEN
    if value > limit:
        raise InvalidInput("The amount is above the limit.", fields={field: [f"At most {format_yuan(limit)}."]})
    return value


# --- Hooks ----------------------------------------------------------------------
def on_contract_paid(contract: Contract) -> None:
    """Runs inside the transaction that moved the price into escrow: the contract's
    Delivery is created and its build enqueued once the payment commits."""
    from exchange.services.delivery import delivery_create

    delivery_create(contract=contract)


# --- Access requests --------------------------------------------------------------
def access_request_create(*, actor: Actor, offer: Offer, purpose: str) -> AccessRequest:
    """A buyer asks for an offer. An ``instant`` offer is approved and paid (if funds allow) at once."""
    buyer = _require_firm(actor, "buy")
    clean_purpose = _clean_purpose(purpose)
    offer = Offer.objects.select_related("listing__dataset__owner", "listing__version").filter(pk=offer.pk).first()
    if offer is None:
        raise NotFound("No such offer.")
    listing = offer.listing
    seller = listing.dataset.owner
    if listing.status != Listing.Status.PUBLISHED:
        if seller.pk != buyer.pk:
            # Another firm's unpublished listing is not revealed; a public one that was withdrawn is explained.
            if listing.status in (Listing.Status.SUSPENDED, Listing.Status.RETIRED):
                raise Conflict(f"This listing is {listing.get_status_display().lower()} and cannot be bought.",
                               code="listing_unavailable")
            raise NotFound("No such offer.")
        raise Conflict(f"This listing is {listing.get_status_display().lower()}, not published.", code="listing_unavailable")
    if seller.pk == buyer.pk:
        raise Conflict("You cannot buy your own firm's dataset.", code="own_dataset")
    if not buyer.is_verified:
        raise Forbidden("Your firm is not verified yet; only verified firms may buy.", code="firm_not_verified")
    if not offer.is_active:
        raise Conflict("This offer is no longer available.", code="offer_inactive")
    # Everything that does not depend on the state locked below is done first, outside the
    # write transaction (SQLite has one writer at a time): a purchase the firm may not make is
    # refused without waiting for the lock (and checked again under it), the contract and its
    # licence text are drafted, and who hears about the purchase is looked up.
    _refuse_blocked(buyer, offer)
    instant = offer.access_mode == Offer.AccessMode.INSTANT
    draft = contract_draft(buyer=buyer, seller=seller, listing=listing, offer=offer,
                            purpose=clean_purpose) if instant else None
    audience = audience_of((seller, buyer))
    with transaction.atomic():
        # One purchase at a time per buyer firm, so the checks below see every earlier purchase.
        # FOR NO KEY UPDATE: rows that merely reference the firm (audit events, requests) are not blocked.
        list(Organization.objects.select_for_update(no_key=True).filter(pk=buyer.pk).values_list("pk", flat=True))
        _refuse_blocked(buyer, offer)  # the same rule the purchase box shows (selectors/purchase.py)
        try:
            with transaction.atomic():
                request = AccessRequest.objects.create(buyer=buyer, seller=seller, offer=offer, listing=listing,
                                                       purpose=clean_purpose, requested_by=actor.user)
        except IntegrityError:  # a concurrent request for the same offer won the partial unique index
            raise Conflict("You already have a pending request for this offer.", code="duplicate_request") from None
        emit("access_request.created", (seller, buyer), _request_data(request), audience=audience)
        notify_request(request, "access_request.created", audience=audience)
        events: list[tuple[str, Any, dict]] = [("access_request.created", request, {
            "offer": str(offer.pk), "listing": str(listing.pk), "access_mode": offer.access_mode})]
        if draft is not None:
            events += _approve_locked(request, reason="instant offer", draft=draft, audience=audience)
        for action, obj, details in events:
            audit_record(actor=actor, action=action, obj=obj, organization=buyer, details=details)
        _paid_hook(request)
    return request


def _refuse_blocked(buyer: Organization, offer: Offer) -> None:
    block = purchase_blocks(buyer=buyer, offers=[offer]).get(offer.pk)
    if block is not None:
        raise Conflict(block.message, code=block.code)


def _request_data(request: AccessRequest, **extra: Any) -> dict[str, Any]:
    """A webhook's view of a request: ids and states only."""
    return {"access_request": str(request.pk), "offer": str(request.offer_id), "listing": str(request.listing_id),
            "buyer": str(request.buyer_id), "seller": str(request.seller_id), "status": request.status, **extra}


def _paid_hook(request: AccessRequest) -> None:
    contract = getattr(request, "_new_contract", None)
    if contract is not None and contract.status == Contract.Status.PAID:
        on_contract_paid(contract)


def _approve_locked(request: AccessRequest, *, reason: str, draft: Contract | None = None,
                    audience: Audience | None = None) -> list[tuple[str, Any, dict]]:
    """Approve a locked pending request: make its contract and try to pay it. Returns the audit events.

    ``draft`` is the contract drafted before the transaction (``_contract_draft`` for this
    request's buyer, seller, listing, offer and purpose); without it the draft is made here."""
    request.status = AccessRequest.Status.APPROVED
    request.decision_reason = reason
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decision_reason", "decided_at"])
    contract = draft or contract_draft(buyer=request.buyer, seller=request.seller, listing=request.listing,
                                        offer=request.offer, purpose=request.purpose)
    contract.access_request = request
    try:
        with transaction.atomic():
            contract.save(force_insert=True)
    except IntegrityError as exc:  # the partial unique index: an unpaid contract for this offer already exists
        if not _is_unpaid_duplicate(exc):
            raise
        raise Conflict("An approved request for this offer is already awaiting the buyer's payment; pay it instead.",
                       code="duplicate_request") from None
    request._new_contract = contract
    emit("access_request.approved", (request.seller, request.buyer), _request_data(request, contract=str(contract.pk)),
         audience=audience)
    notify_request(request, "access_request.approved", audience=audience)
    events = [("access_request.approved", request, {"from": "pending", "to": "approved", "reason": reason}),
              ("contract.created", contract, {"price_fen": contract.price_fen, "licence_sha256": contract.licence_sha256,
                                              "seller": str(contract.seller_id), "buyer": str(contract.buyer_id)})]
    try:
        with transaction.atomic():
            events.append(_pay_locked(contract, created_by="auto-pay on approval", audience=audience))
    except ledger.InsufficientFunds as exc:
        events.append(("contract.payment_deferred", contract, {"reason": exc.message}))
    return events


def _is_unpaid_duplicate(exc: IntegrityError) -> bool:
    text = str(exc)  # PostgreSQL names the index; SQLite names its columns
    return "contract_one_unpaid_per_offer" in text or "exchange_contract.buyer_id, exchange_contract.offer_id" in text


def _get_request_for_update(request_id, *, org_field: str, organization: Organization) -> AccessRequest:
    request = (AccessRequest.objects.select_for_update(of=("self",))
               .select_related("offer", "listing__version", "buyer", "seller")
               .filter(pk=request_id, **{org_field: organization}).first())
    if request is None:
        raise NotFound("No such access request.")
    return request


def access_request_approve(*, actor: Actor, request: AccessRequest) -> AccessRequest:
    """The seller approves a pending request: a contract is made and paid if the buyer's funds allow."""
    seller = _require_firm(actor, "sell")
    with transaction.atomic():
        request = _get_request_for_update(request.pk, org_field="seller", organization=seller)
        if request.status != AccessRequest.Status.PENDING:
            raise Conflict(f"Only a pending request can be approved; this one is {request.get_status_display().lower()}.")
        events = _approve_locked(request, reason="")
        for action, obj, details in events:
            audit_record(actor=actor, action=action, obj=obj, organization=seller, details=details)
        _paid_hook(request)
    return request


def access_request_reject(*, actor: Actor, request: AccessRequest, reason: str) -> AccessRequest:
    seller = _require_firm(actor, "sell")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required to reject a request.", fields={"reason": ["Give the buyer a reason."]})
    with transaction.atomic():
        request = _get_request_for_update(request.pk, org_field="seller", organization=seller)
        if request.status != AccessRequest.Status.PENDING:
            raise Conflict(f"Only a pending request can be rejected; this one is {request.get_status_display().lower()}.")
        request.status, request.decision_reason, request.decided_at = AccessRequest.Status.REJECTED, reason, timezone.now()
        request.save(update_fields=["status", "decision_reason", "decided_at"])
        emit("access_request.rejected", (request.seller, request.buyer), _request_data(request))
        notify_request(request, "access_request.rejected")
        audit_record(actor=actor, action="access_request.rejected", obj=request, organization=seller,
                     details={"from": "pending", "to": "rejected", "reason": reason})
    return request


def access_request_cancel(*, actor: Actor, request: AccessRequest) -> AccessRequest:
    """The buyer withdraws a pending request, or an approved one whose contract is not paid yet."""
    buyer = _require_firm(actor, "buy")
    with transaction.atomic():
        request = _get_request_for_update(request.pk, org_field="buyer", organization=buyer)
        contract = Contract.objects.select_for_update().filter(access_request=request).first()
        if request.status == AccessRequest.Status.PENDING:
            pass
        elif request.status == AccessRequest.Status.APPROVED and contract and contract.status == Contract.Status.AWAITING_PAYMENT:
            contract.status = Contract.Status.CANCELLED
            contract.save(update_fields=["status"])
        else:
            state = request.get_status_display().lower()
            if contract is not None:
                state = f"{state} and its contract is {contract.get_status_display().lower()}"
            raise Conflict(f"This request can no longer be cancelled: it is {state}.")
        old = request.status
        request.status, request.decided_at = AccessRequest.Status.CANCELLED, timezone.now()
        request.save(update_fields=["status", "decided_at"])
        audit_record(actor=actor, action="access_request.cancelled", obj=request, organization=buyer,
                     details={"from": old, "to": "cancelled", "contract": str(contract.pk) if contract else None})
    return request


def access_requests_expire(*, now=None) -> int:
    """Expire pending requests older than ACCESS_REQUEST_EXPIRY_DAYS. Idempotent; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ACCESS_REQUEST_EXPIRY_DAYS)
    actor = Actor.system("access-request-expiry")
    expired = 0
    ids = list(AccessRequest.objects.filter(status=AccessRequest.Status.PENDING, created_at__lt=cutoff)
               .order_by("created_at").values_list("pk", flat=True)[:500])
    for request_id in ids:
        with transaction.atomic():
            request = AccessRequest.objects.select_for_update().filter(
                pk=request_id, status=AccessRequest.Status.PENDING).first()
            if request is None:  # decided meanwhile
                continue
            request.status, request.decided_at = AccessRequest.Status.EXPIRED, now
            request.save(update_fields=["status", "decided_at"])
            audit_record(actor=actor, action="access_request.expired", obj=request, organization=request.buyer,
                         details={"from": "pending", "to": "expired", "days": settings.ACCESS_REQUEST_EXPIRY_DAYS})
            expired += 1
    return expired


# --- Contracts and money ------------------------------------------------------------
def _pay_locked(contract: Contract, *, created_by: str, audience: Audience | None = None) -> tuple[str, Any, dict]:
    """Move the price from the buyer's wallet to escrow; the caller holds the contract's lock."""
    wallet = ledger.wallet_of(contract.buyer)
    escrow = ledger.system_account(Account.Kind.ESCROW)
    ledger.transfer(kind=LedgerTransfer.Kind.PAYMENT, contract=contract, created_by=created_by,
                    memo=f"Payment for contract {contract.pk}",
                    legs=[(wallet, -contract.price_fen), (escrow, contract.price_fen)])
    contract.status, contract.paid_at = Contract.Status.PAID, timezone.now()
    contract.save(update_fields=["status", "paid_at"])
    catalog_changed()  # market statistics count this trade
    emit("contract.paid", (contract.seller, contract.buyer), contract_data(contract), audience=audience)
    notify_contract(contract, "contract.paid", audience=audience)
    return ("contract.paid", contract, {"price_fen": contract.price_fen, "wallet_balance_fen": wallet.balance})


def contract_pay(*, actor: Actor, contract: Contract) -> Contract:
    """The buyer pays an approved contract into escrow. Safe to call twice: the second is refused, no money moves."""
    buyer = _require_firm(actor, "buy")
    with transaction.atomic():
        contract = (Contract.objects.select_for_update(of=("self",)).select_related("buyer", "access_request")
                    .filter(pk=contract.pk, buyer=buyer).first())
        if contract is None:
            raise NotFound("No such contract.")
        if contract.is_paid:
            raise Conflict("This contract is already paid.", code="already_paid")
        if contract.status != Contract.Status.AWAITING_PAYMENT:
            raise Conflict(f"This contract is {contract.get_status_display().lower()} and cannot be paid.")
        event = _pay_locked(contract, created_by=actor.label)
        audit_record(actor=actor, action=event[0], obj=contract, organization=buyer, details=event[2])
        on_contract_paid(contract)
    return contract


def _topup(*, actor: Actor, organization: Organization, amount_fen: int, memo: str, action: str) -> LedgerTransfer:
    with transaction.atomic():
        wallet = ledger.wallet_of(organization)
        record = ledger.transfer(kind=LedgerTransfer.Kind.TOPUP, created_by=actor.label, memo=memo,
                                 legs=[(ledger.system_account(Account.Kind.EXTERNAL), -amount_fen),
                                       (wallet, amount_fen)])
        audit_record(actor=actor, action=action, obj=wallet, organization=organization, details={
            "amount_fen": amount_fen, "memo": memo, "transfer": str(record.pk), "balance_fen": wallet.balance})
    return record


def wallet_topup(*, actor: Actor, organization: Organization, amount_fen: Any, memo: str) -> LedgerTransfer:
    """Staff credit a firm's wallet (e.g. after a bank transfer arrived). Positive whole fen only."""
    _require_staff(actor)
    amount_fen = validate_amount_fen(amount_fen)
    memo = (memo or "").strip()
    if not memo:
        raise InvalidInput("Say where the money came from.", fields={"memo": ["A memo is required (e.g. the bank reference)."]})
    return _topup(actor=actor, organization=organization, amount_fen=amount_fen, memo=memo, action="wallet.topped_up")


def wallet_sandbox_topup(*, actor: Actor, amount_fen: Any) -> LedgerTransfer:
    """Demo mode only: a firm credits its own wallet with play money."""
    if not settings.DEMO_MODE:
        raise Forbidden("Sandbox top-ups exist only in demo mode.", code="not_demo")
    org = _require_firm(actor, "buy")
    amount_fen = validate_amount_fen(amount_fen, maximum=settings.SANDBOX_TOPUP_MAX_FEN)
    return _topup(actor=actor, organization=org, amount_fen=amount_fen, memo="Sandbox top-up (demo money)",
                  action="wallet.sandbox_topped_up")
