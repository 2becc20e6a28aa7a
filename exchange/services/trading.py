"""Trading use cases: access requests, contracts, payment into escrow and wallet top-ups.
What happens to the money afterwards (release, refunds) lives in ``services.escrow``.

Each service checks state under a row lock, owns its transaction and audits inside it.
Lock order: request/contract row → ledger accounts → audit chain (audit events are
written after the money has moved; see exchange.services.ledger).
"""

from __future__ import annotations

import hashlib
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
from exchange.services.audit import audit_record
from exchange.services.catalog_flat import catalog_changed
from exchange.services.escrow import contract_data
from exchange.services.guarantee import guarantee_licence_text
from exchange.services.lineage import derivatives_licence_text
from exchange.services.notifications import notify_contract, notify_request
from exchange.services.webhooks import emit
from exchange.validators import one_line

# A purpose must say what the data is for: at least a short sentence. Chinese packs more
# meaning per character than English, so its minimum is lower.
PURPOSE_MIN_CHARS = 15
PURPOSE_MIN_CHARS_CJK = 8
LICENCE_FORMAT = "shujiao-licence/1"


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


# --- Licence --------------------------------------------------------------------
def licence_render(*, contract_id: str, seller: Organization, buyer: Organization, listing: Listing, offer: Offer,
                   version_number: int, version_sha256: str, purpose: str) -> str:
    """The licence text of a contract: deterministic (same inputs, same bytes), no clock."""
    restriction = one_line(offer.purpose_restriction) or "None beyond the purpose stated by the licensee."
    # Every value a firm typed goes through one_line: none can add a line to the signed text.
    seller_name, buyer_name = one_line(seller.name, max_length=200), one_line(buyer.name, max_length=200)
    title, offer_name, purpose = one_line(listing.title, max_length=200), one_line(offer.name, max_length=200), one_line(purpose)
    lines = [
        f"SHUJIAO DATA LICENCE ({LICENCE_FORMAT})",
        "",
        f"Contract: {contract_id}",
        f"Licensor (seller): {seller_name}, unified social credit code {seller.credit_code}",
        f"Licensee (buyer): {buyer_name}, unified social credit code {buyer.credit_code}",
        f"Dataset: {title} (listing {listing.pk}), version {version_number}, SHA-256 {version_sha256}",
        f"Offer: {offer_name}",
        f"Price: {format_yuan(offer.price_fen)} ({offer.currency}), held in escrow by the exchange "
        + ("until delivery." if not offer.acceptance_days else "until the licensee accepts the delivery."),
        "",
        "1. Purpose. The licensee may use the data only for the purpose it stated:",
        f"   {purpose}",
        f"2. Purpose restriction set by the licensor: {restriction}",
        f"3. Term. The licence runs for {offer.term_days} days from delivery.",
        f"4. Downloads. The delivery may be downloaded at most {offer.download_limit} times.",
        "5. Redistribution. " + ("The licensee may redistribute the data."
                                 if offer.redistribution else
                                 "The licensee may not redistribute, resell or publish the data, in whole or in part."),
        "6. Personal information. The licensee processes any personal information only within the stated purpose "
        "and the law of the People's Republic of China, including the Personal Information Protection Law.",
        "7. Integrity. The delivery is signed by the exchange; the SHA-256 of this text is recorded in the contract.",
        "8. Acceptance. " + (
            f"The licensee has {offer.acceptance_days} days from delivery to accept it or to report a problem to the "
            "exchange; the price is released to the licensor when the licensee accepts or the period ends without an "
            "open dispute, and the period stops while a dispute is open."
            if offer.acceptance_days else
            "The price is released to the licensor when the delivery is ready (no acceptance period)."),
        "9. Quality guarantee. " + guarantee_licence_text(offer.guarantee),
    ]
    if offer.fingerprint:
        lines.append("10. Fingerprint. The licensee's copy carries marks keyed to this contract, so that a leaked copy "
                     f"can be traced to it; {offer.fingerprint_bound}.")
    number = 10 + bool(offer.fingerprint)
    if offer.derivatives_allowed:
        lines.append(f"{number}. Derivatives. " + derivatives_licence_text(offer))
        number += 1
    if offer.kind == offer.Kind.SUBSCRIPTION:
        lines.append(f"{number}. Subscription. The term runs {offer.term_days} days from payment. Every later version "
                     "the licensor publishes to this listing during the term is delivered to the licensee as a new "
                     "signed package, with the changes since the version the licensee last received, and is licensed "
                     "on these terms until the term ends. Renewal is a new purchase.")
    lines.append("")
    return "\n".join(lines)


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
    with transaction.atomic():
        # One purchase at a time per buyer firm, so the checks below see every earlier purchase.
        # FOR NO KEY UPDATE: rows that merely reference the firm (audit events, requests) are not blocked.
        list(Organization.objects.select_for_update(no_key=True).filter(pk=buyer.pk).values_list("pk", flat=True))
        block = purchase_blocks(buyer=buyer, offers=[offer]).get(offer.pk)
        if block is not None:  # the same rule the purchase box shows (selectors/purchase.py)
            raise Conflict(block.message, code=block.code)
        try:
            with transaction.atomic():
                request = AccessRequest.objects.create(buyer=buyer, seller=seller, offer=offer, listing=listing,
                                                       purpose=clean_purpose, requested_by=actor.user)
        except IntegrityError:  # a concurrent request for the same offer won the partial unique index
            raise Conflict("You already have a pending request for this offer.", code="duplicate_request") from None
        emit("access_request.created", (seller, buyer), _request_data(request))
        notify_request(request, "access_request.created")
        events: list[tuple[str, Any, dict]] = [("access_request.created", request, {
            "offer": str(offer.pk), "listing": str(listing.pk), "access_mode": offer.access_mode})]
        if offer.access_mode == Offer.AccessMode.INSTANT:
            events += _approve_locked(request, reason="instant offer")
        for action, obj, details in events:
            audit_record(actor=actor, action=action, obj=obj, organization=buyer, details=details)
        _paid_hook(request)
    return request


def _request_data(request: AccessRequest, **extra: Any) -> dict[str, Any]:
    """A webhook's view of a request: ids and states only."""
    return {"access_request": str(request.pk), "offer": str(request.offer_id), "listing": str(request.listing_id),
            "buyer": str(request.buyer_id), "seller": str(request.seller_id), "status": request.status, **extra}


def _paid_hook(request: AccessRequest) -> None:
    contract = getattr(request, "_new_contract", None)
    if contract is not None and contract.status == Contract.Status.PAID:
        on_contract_paid(contract)


def _approve_locked(request: AccessRequest, *, reason: str) -> list[tuple[str, Any, dict]]:
    """Approve a locked pending request: make its contract and try to pay it. Returns the audit events."""
    offer = request.offer
    listing = request.listing
    version = listing.version
    request.status = AccessRequest.Status.APPROVED
    request.decision_reason = reason
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decision_reason", "decided_at"])
    contract = Contract(access_request=request, buyer=request.buyer, seller=request.seller, listing=listing, offer=offer,
                        dataset_version=version, price_fen=offer.price_fen, currency=offer.currency,
                        commission_bp=settings.TRADING_COMMISSION_BP, purpose=request.purpose,
                        purpose_restriction=offer.purpose_restriction, term_days=offer.term_days,
                        download_limit=offer.download_limit, redistribution=offer.redistribution,
                        acceptance_days=offer.acceptance_days, guarantee=offer.guarantee)
    contract.licence_text = licence_render(contract_id=str(contract.pk), seller=request.seller, buyer=request.buyer,
                                           listing=listing, offer=offer, version_number=version.number,
                                           version_sha256=version.sha256, purpose=request.purpose)
    contract.licence_sha256 = hashlib.sha256(contract.licence_text.encode()).hexdigest()
    try:
        with transaction.atomic():
            contract.save(force_insert=True)
    except IntegrityError as exc:  # the partial unique index: an unpaid contract for this offer already exists
        if not _is_unpaid_duplicate(exc):
            raise
        raise Conflict("An approved request for this offer is already awaiting the buyer's payment; pay it instead.",
                       code="duplicate_request") from None
    request._new_contract = contract
    emit("access_request.approved", (request.seller, request.buyer), _request_data(request, contract=str(contract.pk)))
    notify_request(request, "access_request.approved")
    events = [("access_request.approved", request, {"from": "pending", "to": "approved", "reason": reason}),
              ("contract.created", contract, {"price_fen": contract.price_fen, "licence_sha256": contract.licence_sha256,
                                              "seller": str(contract.seller_id), "buyer": str(contract.buyer_id)})]
    try:
        with transaction.atomic():
            events.append(_pay_locked(contract, created_by="auto-pay on approval"))
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
def _pay_locked(contract: Contract, *, created_by: str) -> tuple[str, Any, dict]:
    """Move the price from the buyer's wallet to escrow; the caller holds the contract's lock."""
    wallet = ledger.wallet_of(contract.buyer)
    escrow = ledger.system_account(Account.Kind.ESCROW)
    ledger.transfer(kind=LedgerTransfer.Kind.PAYMENT, contract=contract, created_by=created_by,
                    memo=f"Payment for contract {contract.pk}",
                    legs=[(wallet, -contract.price_fen), (escrow, contract.price_fen)])
    contract.status, contract.paid_at = Contract.Status.PAID, timezone.now()
    contract.save(update_fields=["status", "paid_at"])
    catalog_changed()  # market statistics count this trade
    emit("contract.paid", (contract.seller, contract.buyer), contract_data(contract))
    notify_contract(contract, "contract.paid")
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
