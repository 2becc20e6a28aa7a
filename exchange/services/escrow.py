"""Escrow: what happens to a paid contract's price. Delivered (window opened), released to the
seller minus commission (settled), returned to the buyer (refunded), or split by a staff
decision (partially refunded).

Trading, delivery and disputes all call this module; it imports none of them, so the
money rules live in one place. Every function runs in (or opens) one transaction, locks the
contract row first, then moves money through ``services.ledger.transfer`` (accounts locked in
id order), then audits — the project's lock order. Amounts are integer fen.

Commission rule: the exchange takes ``floor(kept × commission_bp / 10000)`` of what the
seller keeps (``services.ledger.commission_fen``): all of the price on settlement, the price
minus the refund on a partial refund, nothing on a full refund.

Lineage: when the version sold was derived from licensed data, the upstream seller's share
(``services.lineage.share_split``: ``floor(proceeds after commission × share_bp / 10000)``) is a
further leg of the same transfer, taken from the seller's payout; a full refund pays none.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import Account, Contract, LedgerTransfer
from exchange.money import format_yuan
from exchange.services import ledger, lineage
from exchange.services.audit import audit_record
from exchange.services.catalog_flat import catalog_changed
from exchange.services.lineage import ShareSplit
from exchange.services.sharing import tokens_revoke_for_contract
from exchange.services.webhooks import emit


def contract_data(contract: Contract, **extra: Any) -> dict[str, Any]:
    """A webhook's view of a contract: ids and states only."""
    return {"contract": str(contract.pk), "access_request": str(contract.access_request_id),
            "listing": str(contract.listing_id), "buyer": str(contract.buyer_id), "seller": str(contract.seller_id),
            "status": contract.status, **extra}


def _lock(contract_id) -> Contract:
    contract = (Contract.objects.select_for_update(of=("self",)).select_related("buyer", "seller")
                .filter(pk=contract_id).first())
    if contract is None:
        raise NotFound("No such contract.")
    return contract


def _state(contract: Contract) -> str:
    return contract.get_status_display().lower()


def _require_staff_or_system(actor: Actor, what: str) -> None:
    if actor.type != "system" and (actor.user is None or not actor.user.is_staff):
        raise Forbidden(f"Only exchange staff or the exchange's workers can {what}.")


def validate_refund_fen(value: Any, *, price_fen: int) -> int:
    """A partial refund: a whole number of fen from 1 to the price (an int: not a bool, float or string)."""
    field = "refund_fen"
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("A refund is a whole number of fen (1 CNY = 100 fen).",
                           fields={field: ["Enter a whole number of fen, e.g. 5000 for 50.00 CNY."]})
    if not 1 <= value <= price_fen:
        raise InvalidInput(f"A refund is between ¥0.01 and the price ({format_yuan(price_fen)}).",
                           fields={field: [f"From ¥0.01 to {format_yuan(price_fen)}."]})
    return value


# --- Delivery and release -------------------------------------------------------------
def contract_delivered_locked(contract: Contract, *, actor: Actor) -> None:
    """The delivery is ready (caller holds the contract's lock): open the acceptance window,
    or release at once when the contract has none."""
    if contract.status != Contract.Status.PAID:
        raise Conflict(f"Only a paid contract can be delivered; this one is {_state(contract)}.")
    now = timezone.now()
    contract.delivered_at = now
    if contract.acceptance_days == 0:
        contract.save(update_fields=["delivered_at"])
        _settle_locked(contract, actor=actor, release=Contract.Release.NO_WINDOW)
        return
    contract.status = Contract.Status.DELIVERED
    contract.window_ends_at = now + timedelta(days=contract.acceptance_days)
    contract.save(update_fields=["status", "delivered_at", "window_ends_at"])
    emit("contract.delivered", (contract.seller, contract.buyer),
         contract_data(contract, window_ends_at=contract.window_ends_at.isoformat()))
    audit_record(actor=actor, action="contract.delivered", obj=contract, organization=contract.buyer, details={
        "from": "paid", "to": "delivered", "acceptance_days": contract.acceptance_days,
        "window_ends_at": contract.window_ends_at})


def _seller_legs(contract: Contract, kept_after_commission: int) -> tuple[list, ShareSplit | None, int]:
    """The seller's legs of a release: its proceeds after commission, less the upstream revenue
    share when the version sold was derived from licensed data (services.lineage)."""
    split = lineage.share_split(contract, base_fen=kept_after_commission)
    upstream = split.share_fen if split else 0
    payout = kept_after_commission - upstream
    legs = []
    if payout:
        legs.append((ledger.wallet_of(contract.seller), payout))
    if split:
        legs.append((ledger.wallet_of(split.upstream_seller), upstream))
    return legs, split, payout


def _share_memo(split: ShareSplit | None) -> str:
    return f", {format_yuan(split.share_fen)} revenue share upstream" if split else ""


def _share_details(split: ShareSplit | None) -> dict[str, Any]:
    return {"share_fen": split.share_fen, "upstream_seller": str(split.upstream_seller.pk)} if split else {}


def _settle_locked(contract: Contract, *, actor: Actor, release: str) -> None:
    commission = ledger.commission_fen(price_fen=contract.price_fen, basis_points=contract.commission_bp)
    seller_legs, split, payout = _seller_legs(contract, contract.price_fen - commission)
    legs = [(ledger.system_account(Account.Kind.ESCROW), -contract.price_fen), *seller_legs]
    if commission:
        legs.append((ledger.system_account(Account.Kind.REVENUE), commission))
    record = ledger.transfer(kind=LedgerTransfer.Kind.SETTLEMENT, contract=contract, created_by=actor.label, legs=legs,
                             memo=(f"Settlement of contract {contract.pk}: {format_yuan(payout)} to seller, "
                                   f"{format_yuan(commission)} commission{_share_memo(split)}"))
    if split:
        lineage.share_record(contract=contract, split=split, transfer=record, actor=actor)
    old = contract.status
    contract.status, contract.settled_at, contract.release = Contract.Status.SETTLED, timezone.now(), release
    if release == Contract.Release.ACCEPTED:
        contract.accepted_at = contract.settled_at
    contract.window_remaining_seconds = None
    contract.save(update_fields=["status", "settled_at", "release", "accepted_at", "window_remaining_seconds"])
    catalog_changed()
    emit("contract.settled", (contract.seller, contract.buyer), contract_data(contract, release=release))
    audit_record(actor=actor, action="contract.settled", obj=contract, organization=contract.seller, details={
        "from": old, "price_fen": contract.price_fen, "commission_fen": commission, "payout_fen": payout,
        "commission_bp": contract.commission_bp, "release": release, **_share_details(split)})


def contract_settle(*, contract_id, actor: Actor | None = None, release: str = Contract.Release.SYSTEM) -> Contract:
    """Release escrow to the seller minus the commission. At most once per contract; never
    while a dispute is open."""
    actor = actor or Actor.system("settlement")
    with transaction.atomic():
        contract = _lock(contract_id)
        if contract.status == Contract.Status.SETTLED:
            raise Conflict("This contract is already settled.", code="already_settled")
        if contract.status == Contract.Status.DISPUTED:
            raise Conflict("A dispute is open on this contract: escrow stays held until staff decide.",
                           code="dispute_open")
        if contract.status not in (Contract.Status.PAID, Contract.Status.DELIVERED):
            raise Conflict(f"Only a paid contract can be settled; this one is {_state(contract)}.")
        _settle_locked(contract, actor=actor, release=release)
    return contract


def contract_accept(*, actor: Actor, contract_id) -> Contract:
    """The buyer accepts the delivery: escrow is released to the seller at once."""
    import uuid

    try:
        contract_id = uuid.UUID(str(contract_id))
    except ValueError:
        raise NotFound("No such contract.") from None
    buyer = actor.organization
    if buyer is None:
        raise Forbidden("Only members of a firm can accept a delivery.", code="no_firm")
    if not actor.has_scope("buy"):
        raise Forbidden("This API key lacks the 'buy' scope.", code="missing_scope")
    with transaction.atomic():
        contract = _lock(contract_id)
        if buyer.pk not in (contract.buyer_id, contract.seller_id):
            raise NotFound("No such contract.")
        if contract.buyer_id != buyer.pk:
            raise Forbidden("Only the buyer can accept a delivery.", code="not_buyer")
        if contract.status == Contract.Status.DISPUTED:
            raise Conflict("A dispute is open on this contract; it is decided by the exchange's staff.",
                           code="dispute_open")
        if contract.status != Contract.Status.DELIVERED:
            raise Conflict(f"Only a delivered contract inside its acceptance window can be accepted; this one is "
                           f"{_state(contract)}.", code="not_acceptable")
        emit("contract.accepted", (contract.seller, contract.buyer), contract_data(contract))
        audit_record(actor=actor, action="contract.accepted", obj=contract, organization=buyer,
                     details={"window_ends_at": contract.window_ends_at})
        _settle_locked(contract, actor=actor, release=Contract.Release.ACCEPTED)
        _notify(contract, "contract.accepted")
    return contract


def contracts_release_due(*, now=None) -> int:
    """Release every contract whose acceptance window ended without an open dispute (beat
    task). Idempotent: each contract is re-read under its lock; returns how many."""
    now = now or timezone.now()
    actor = Actor.system("acceptance-window")
    ids = list(Contract.objects.filter(status=Contract.Status.DELIVERED, window_ends_at__lte=now)
               .order_by("window_ends_at").values_list("pk", flat=True)[:500])
    released = 0
    for pk in ids:
        with transaction.atomic():
            contract = _lock(pk)
            # A dispute opened (or the buyer accepted) since the list was read: nothing to do.
            if contract.status != Contract.Status.DELIVERED or contract.window_ends_at > now:
                continue
            _settle_locked(contract, actor=actor, release=Contract.Release.WINDOW_CLOSED)
            _notify(contract, "contract.window_closed")
            released += 1
    return released


def _notify(contract: Contract, event: str) -> None:
    from exchange.services.notifications import notify_contract

    notify_contract(contract, event)


# --- Refunds ----------------------------------------------------------------------------
def refund_locked(contract: Contract, *, actor: Actor, reason: str) -> None:
    """Return the whole price to the buyer (caller holds the contract's lock; state checked by the caller)."""
    ledger.transfer(kind=LedgerTransfer.Kind.REFUND, contract=contract, created_by=actor.label,
                    memo=f"Refund of contract {contract.pk}: {reason}"[:300],
                    legs=[(ledger.system_account(Account.Kind.ESCROW), -contract.price_fen),
                          (ledger.wallet_of(contract.buyer), contract.price_fen)])
    old = contract.status
    contract.status, contract.refunded_at, contract.refund_reason = Contract.Status.REFUNDED, timezone.now(), reason
    contract.refunded_fen, contract.window_remaining_seconds = contract.price_fen, None
    contract.save(update_fields=["status", "refunded_at", "refund_reason", "refunded_fen", "window_remaining_seconds"])
    tokens_revoke_for_contract(contract=contract, reason=f"contract refunded: {reason}", actor=actor)  # Delta Sharing ends
    catalog_changed()  # a refunded trade leaves the market statistics
    emit("contract.refunded", (contract.seller, contract.buyer), contract_data(contract))
    audit_record(actor=actor, action="contract.refunded", obj=contract, organization=contract.buyer,
                 details={"from": old, "price_fen": contract.price_fen, "reason": reason})


def partial_refund_locked(contract: Contract, *, actor: Actor, refund_fen: int, reason: str) -> dict[str, int]:
    """Split the price: ``refund_fen`` back to the buyer, the rest to the seller minus the
    commission on what the seller keeps. One balanced transfer (caller holds the lock)."""
    refund_fen = validate_refund_fen(refund_fen, price_fen=contract.price_fen)
    kept = contract.price_fen - refund_fen
    commission = ledger.commission_fen(price_fen=kept, basis_points=contract.commission_bp)
    seller_legs, share, payout = _seller_legs(contract, kept - commission)  # the share is of what the seller keeps
    legs = [(ledger.system_account(Account.Kind.ESCROW), -contract.price_fen),
            (ledger.wallet_of(contract.buyer), refund_fen), *seller_legs]
    if commission:
        legs.append((ledger.system_account(Account.Kind.REVENUE), commission))
    record = ledger.transfer(kind=LedgerTransfer.Kind.PARTIAL_REFUND, contract=contract, created_by=actor.label,
                             legs=legs, memo=(f"Partial refund of contract {contract.pk}: {format_yuan(refund_fen)} to "
                                              f"buyer, {format_yuan(payout)} to seller, {format_yuan(commission)} "
                                              f"commission{_share_memo(share)}"))
    if share:
        lineage.share_record(contract=contract, split=share, transfer=record, actor=actor)
    old = contract.status
    now = timezone.now()
    contract.status, contract.refunded_at, contract.settled_at = Contract.Status.PARTIALLY_REFUNDED, now, now
    contract.refund_reason, contract.refunded_fen, contract.window_remaining_seconds = reason, refund_fen, None
    contract.save(update_fields=["status", "refunded_at", "settled_at", "refund_reason", "refunded_fen",
                                 "window_remaining_seconds"])
    catalog_changed()
    split = {"refund_fen": refund_fen, "payout_fen": payout, "commission_fen": commission}
    emit("contract.partially_refunded", (contract.seller, contract.buyer), contract_data(contract, **split))
    audit_record(actor=actor, action="contract.partially_refunded", obj=contract, organization=contract.buyer,
                 details={"from": old, "price_fen": contract.price_fen, "reason": reason,
                          "commission_bp": contract.commission_bp, **split, **_share_details(share)})
    return split


def _clean_reason(reason: Any, what: str) -> str:
    reason = str(reason or "").strip()
    if not reason:
        raise InvalidInput(f"A reason is required for {what}.", fields={"reason": ["Give a reason."]})
    return reason


def contract_refund(*, contract_id, reason: str, actor: Actor | None = None) -> Contract:
    """Return escrow to the buyer (delivery failed for good, or a staff decision). At most once
    per contract. A disputed contract is refunded through its dispute (services.disputes)."""
    actor = actor or Actor.system("refund")
    _require_staff_or_system(actor, "refund a contract")
    reason = _clean_reason(reason, "a refund")
    with transaction.atomic():
        contract = _lock(contract_id)
        if contract.status == Contract.Status.REFUNDED:
            raise Conflict("This contract is already refunded.", code="already_refunded")
        if contract.status == Contract.Status.DISPUTED:
            raise Conflict("A dispute is open on this contract: decide the dispute instead.", code="dispute_open")
        if contract.status not in (Contract.Status.PAID, Contract.Status.DELIVERED):
            raise Conflict(f"Only a paid contract held in escrow can be refunded; this one is {_state(contract)}.")
        refund_locked(contract, actor=actor, reason=reason)
    return contract


def contract_partial_refund(*, contract_id, refund_fen: Any, reason: str, actor: Actor) -> Contract:
    """Staff split a delivered contract's escrow (outside a dispute). A refund of the whole price is a full refund."""
    _require_staff_or_system(actor, "refund a contract")
    reason = _clean_reason(reason, "a refund")
    with transaction.atomic():
        contract = _lock(contract_id)
        validate_refund_fen(refund_fen, price_fen=contract.price_fen)
        if contract.status == Contract.Status.DISPUTED:
            raise Conflict("A dispute is open on this contract: decide the dispute instead.", code="dispute_open")
        if contract.status != Contract.Status.DELIVERED:
            raise Conflict(f"Only a delivered contract held in escrow can be partly refunded; this one is "
                           f"{_state(contract)}.")
        if refund_fen == contract.price_fen:
            refund_locked(contract, actor=actor, reason=reason)
        else:
            partial_refund_locked(contract, actor=actor, refund_fen=refund_fen, reason=reason)
    return contract
