"""Disputes over delivered contracts: open (buyer), respond (seller, once), decide (staff), and
the outcomes the quality re-check reaches on its own (services.recheck).

Rules:
* only the buyer, only inside the acceptance window (contract ``delivered``), at most one open
  dispute per contract (service check + partial unique index); opening stops the window's
  clock (the time left is kept) and holds escrow: the release task skips a ``disputed`` contract;
* a ``quality_below_guarantee`` dispute needs a guarantee and enqueues a re-check of the
  delivered bytes; staff decide only once it has finished;
* staff decide with a reason: full refund (downloads revoked), partial refund (whole fen from 1
  to the price; commission only on what the seller keeps), or reject (the window resumes).

Lock order: contract row → dispute row → (delivery row) → ledger accounts → audit chain. So a
dispute and the release task, a dispute and an acceptance, or two staff decisions on one
contract run one after the other and the loser sees the winner's state.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import Contract, Delivery, Dispute, Listing
from exchange.services import escrow
from exchange.services.audit import audit_record
from exchange.services.dispatch import enqueue_on_commit
from exchange.services.notifications import notify_contract
from exchange.services.webhooks import emit

RECHECK_TASK = "shujiao.quality.recheck_dispute"
TEXT_MAX = 5000


class Outcome:
    REFUND = "refund"
    PARTIAL = "partial_refund"
    REJECT = "reject"
    ALL = (REFUND, PARTIAL, REJECT)


def dispute_data(dispute: Dispute, **extra: Any) -> dict[str, Any]:
    """A webhook's view of a dispute: ids, kind and states (never the texts)."""
    return {"dispute": str(dispute.pk), "contract": str(dispute.contract_id), "buyer": str(dispute.buyer_id),
            "seller": str(dispute.seller_id), "kind": dispute.kind, "status": dispute.status, **extra}


def _clean_text(value: Any, field: str, what: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(f"{what} is required.", fields={field: [f"{what} is required."]})
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"{what} is too long.", fields={field: [f"At most {TEXT_MAX} characters."]})
    return text


def _uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}.") from None


def _firm(actor: Actor, scope: str):
    if actor.organization is None:
        raise Forbidden("Only members of a firm can do this.", code="no_firm")
    if not actor.has_scope(scope):
        raise Forbidden(f"This API key lacks the '{scope}' scope.", code="missing_scope")
    return actor.organization


def _require_staff(actor: Actor) -> None:
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff can decide a dispute.")


def _lock_contract(pk) -> Contract | None:
    return (Contract.objects.select_for_update(of=("self",)).select_related("buyer", "seller", "listing")
            .filter(pk=pk).first())


# --- Buyer ----------------------------------------------------------------------------
def dispute_open(*, actor: Actor, contract_id: Any, kind: str, text: str) -> Dispute:
    """The buyer reports a problem with a delivered contract inside its acceptance window."""
    firm = _firm(actor, "buy")
    pk = _uuid(contract_id, "contract")
    if kind not in Dispute.Kind.values:
        raise InvalidInput("Choose what kind of problem it is.",
                           fields={"kind": [f"One of: {', '.join(Dispute.Kind.values)}."]})
    text = _clean_text(text, "text", "A description of the problem")
    with transaction.atomic():
        contract = _lock_contract(pk)
        if contract is None or firm.pk not in (contract.buyer_id, contract.seller_id):
            raise NotFound("No such contract.")
        if contract.buyer_id != firm.pk:
            raise Forbidden("Only the buyer can report a problem with a contract.", code="not_buyer")
        now = timezone.now()
        if contract.status == Contract.Status.DISPUTED:
            raise Conflict("A dispute is already open on this contract.", code="dispute_open")
        if contract.status != Contract.Status.DELIVERED or contract.window_ends_at is None or contract.window_ends_at <= now:
            if contract.status in (Contract.Status.DELIVERED, Contract.Status.SETTLED) and contract.delivered_at:
                raise Conflict("The acceptance window has ended: escrow was (or is being) released to the seller.",
                               code="window_closed")
            raise Conflict(f"Only a delivered contract inside its acceptance window can be disputed; this one is "
                           f"{contract.get_status_display().lower()}.", code="not_disputable")
        if kind == Dispute.Kind.QUALITY and not contract.guarantee:
            raise InvalidInput("This contract carries no quality guarantee; choose another kind of problem.",
                               fields={"kind": ["No quality guarantee was offered for this contract."]})
        quality = kind == Dispute.Kind.QUALITY
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    contract=contract, buyer=contract.buyer, seller=contract.seller, kind=kind, text=text,
                    opened_by=actor.user if actor.user and actor.user.is_authenticated else None,
                    status=Dispute.Status.RECHECKING if quality else Dispute.Status.OPEN,
                    recheck_queued_at=now if quality else None)
        except IntegrityError:  # the partial unique index: one open dispute per contract
            raise Conflict("A dispute is already open on this contract.", code="dispute_open") from None
        remaining = math.ceil((contract.window_ends_at - now).total_seconds())
        contract.status, contract.window_remaining_seconds = Contract.Status.DISPUTED, remaining
        contract.save(update_fields=["status", "window_remaining_seconds"])
        emit("dispute.opened", (contract.seller, contract.buyer), dispute_data(dispute))
        audit_record(actor=actor, action="dispute.opened", obj=dispute, organization=firm, details={
            "contract": str(contract.pk), "kind": kind, "window_remaining_seconds": remaining, "recheck": quality})
        audit_record(actor=actor, action="contract.disputed", obj=contract, organization=firm,
                     details={"from": "delivered", "to": "disputed", "dispute": str(dispute.pk)})
        notify_contract(contract, "dispute.opened", body=f"{dispute.get_kind_display()}: {text[:300]}")
        if quality:
            enqueue_on_commit(RECHECK_TASK, str(dispute.pk))
    return dispute


# --- Seller ---------------------------------------------------------------------------
def dispute_respond(*, actor: Actor, dispute_id: Any, text: str) -> Dispute:
    """The seller answers an open dispute, once."""
    firm = _firm(actor, "sell")
    pk = _uuid(dispute_id, "dispute")
    text = _clean_text(text, "text", "A response")
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update(of=("self",)).select_related("contract__listing", "contract__buyer",
                                                                               "contract__seller").filter(pk=pk).first()
        if dispute is None or firm.pk not in (dispute.buyer_id, dispute.seller_id):
            raise NotFound("No such dispute.")
        if dispute.seller_id != firm.pk:
            raise Forbidden("Only the seller responds to a dispute.", code="not_seller")
        if not dispute.is_open:
            raise Conflict(f"This dispute is {dispute.get_status_display().lower()}; it can no longer be answered.")
        if dispute.seller_responded_at is not None:
            raise Conflict("The seller has already responded to this dispute.", code="already_responded")
        dispute.seller_response, dispute.seller_responded_at = text, timezone.now()
        dispute.save(update_fields=["seller_response", "seller_responded_at"])
        emit("dispute.responded", (dispute.seller, dispute.buyer), dispute_data(dispute))
        audit_record(actor=actor, action="dispute.responded", obj=dispute, organization=firm, details={"length": len(text)})
        notify_contract(dispute.contract, "dispute.responded")
    return dispute


# --- Staff and the re-check -------------------------------------------------------------
def dispute_decide(*, actor: Actor, dispute_id: Any, outcome: str, reason: str, refund_fen: Any = None) -> Dispute:
    """Staff decide an open dispute: ``refund`` (full), ``partial_refund`` (``refund_fen``) or ``reject``."""
    _require_staff(actor)
    pk = _uuid(dispute_id, "dispute")
    if outcome not in Outcome.ALL:
        raise InvalidInput("Choose an outcome.", fields={"outcome": [f"One of: {', '.join(Outcome.ALL)}."]})
    reason = _clean_text(reason, "reason", "A reason")
    contract_id = Dispute.objects.filter(pk=pk).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise NotFound("No such dispute.")
    with transaction.atomic():
        contract = _lock_contract(contract_id)
        dispute = Dispute.objects.select_for_update().get(pk=pk)
        if outcome == Outcome.PARTIAL:
            escrow.validate_refund_fen(refund_fen, price_fen=contract.price_fen)
        if not dispute.is_open:
            raise Conflict(f"This dispute was already decided: {dispute.get_status_display().lower()}.",
                           code="already_decided")
        if dispute.status == Dispute.Status.RECHECKING:
            raise Conflict("The quality re-check of the delivered file is still running; decide once it has finished.",
                           code="recheck_running")
        if outcome == Outcome.PARTIAL and refund_fen == contract.price_fen:
            outcome = Outcome.REFUND  # the whole price back is a full refund
        decide_locked(contract, dispute, actor=actor, outcome=outcome, reason=reason, refund_fen=refund_fen)
    return dispute


def decide_locked(contract: Contract, dispute: Dispute, *, actor: Actor, outcome: str, reason: str,
                  refund_fen: int | None = None) -> None:
    """Apply a decision to a locked open dispute and its locked contract (staff or the re-check)."""
    now = timezone.now()
    split: dict[str, int] = {}
    if outcome == Outcome.REFUND:
        escrow.refund_locked(contract, actor=actor, reason=f"Dispute {dispute.pk}: {reason}"[:2000])
        dispute.status, dispute.refund_fen = Dispute.Status.REFUNDED, contract.price_fen
        _revoke_downloads(contract, actor=actor, reason=f"Refunded after dispute {dispute.pk}")
    elif outcome == Outcome.PARTIAL:
        split = escrow.partial_refund_locked(contract, actor=actor, refund_fen=refund_fen,
                                             reason=f"Dispute {dispute.pk}: {reason}"[:2000])
        dispute.status, dispute.refund_fen = Dispute.Status.PARTIALLY_REFUNDED, refund_fen
    else:
        dispute.status = Dispute.Status.REJECTED
        remaining = contract.window_remaining_seconds or 0
        contract.status, contract.window_ends_at = Contract.Status.DELIVERED, now + timedelta(seconds=remaining)
        contract.window_remaining_seconds = None
        contract.save(update_fields=["status", "window_ends_at", "window_remaining_seconds"])
        audit_record(actor=actor, action="contract.window_resumed", obj=contract, organization=contract.buyer,
                     details={"from": "disputed", "to": "delivered", "window_ends_at": contract.window_ends_at})
    dispute.decision_reason, dispute.decided_by, dispute.decided_at = reason, actor.label[:200], now
    dispute.save(update_fields=["status", "refund_fen", "decision_reason", "decided_by", "decided_at"])
    emit("dispute.decided", (contract.seller, contract.buyer), dispute_data(dispute, outcome=outcome, **split))
    audit_record(actor=actor, action="dispute.decided", obj=dispute, organization=contract.buyer, details={
        "outcome": outcome, "reason": reason, "refund_fen": dispute.refund_fen, "contract": str(contract.pk), **split})
    notify_contract(contract, "dispute.decided", body=f"{dispute.get_status_display()}: {reason[:300]}")


def _revoke_downloads(contract: Contract, *, actor: Actor, reason: str) -> None:
    # every ready delivery of the contract: the initial one and a subscription's updates
    for delivery in Delivery.objects.select_for_update().filter(contract=contract, status=Delivery.Status.READY):
        delivery.status, delivery.revoke_reason, delivery.ended_at = Delivery.Status.REVOKED, reason, timezone.now()
        delivery.save(update_fields=["status", "revoke_reason", "ended_at"])
        audit_record(actor=actor, action="delivery.revoked", obj=delivery, organization=contract.buyer,
                     details={"from": "ready", "reason": reason, "refunded": True})


def listing_flag_locked(listing_id, *, actor: Actor, reason: str) -> None:
    """Mark a listing for staff attention (a delivered copy failed its guarantee)."""
    now = timezone.now()
    Listing.objects.filter(pk=listing_id).update(flagged_at=now, flag_reason=reason[:2000])
    listing = Listing.objects.select_related("dataset__owner").get(pk=listing_id)
    audit_record(actor=actor, action="listing.flagged", obj=listing, organization=listing.dataset.owner,
                 details={"reason": reason})


# --- Periodic -------------------------------------------------------------------------
def windows_remind(*, now=None) -> int:
    """Tell buyers once when less than ACCEPTANCE_REMINDER_HOURS of their window is left."""
    now = now or timezone.now()
    soon = now + timedelta(hours=settings.ACCEPTANCE_REMINDER_HOURS)
    ids = list(Contract.objects.filter(status=Contract.Status.DELIVERED, window_ends_at__lte=soon,
                                       window_ends_at__gt=now, window_reminded_at__isnull=True)
               .values_list("pk", flat=True)[:500])
    count = 0
    for pk in ids:
        with transaction.atomic():
            contract = _lock_contract(pk)
            if contract.status != Contract.Status.DELIVERED or contract.window_reminded_at is not None:
                continue
            contract.window_reminded_at = now
            contract.save(update_fields=["window_reminded_at"])
            notify_contract(contract, "contract.window_closing",
                            body=f"The window ends at {contract.window_ends_at:%Y-%m-%d %H:%M} UTC.")
            count += 1
    return count
