"""Cleaning lineage: a version declares the licensed upstream version it was derived from, and
each sale of it pays the upstream offer's revenue share at settlement.

Rules (SPEC §2 Lineage; docs/architecture.md):

- ``derived_from`` names a version the declaring firm may see (its own, one it bought, or one of
  a published listing); any other id is answered 404 as an unknown one, so a private version's
  existence is never revealed.
- Refused: the version itself, a version of the firm's own data (a firm cannot license its own
  data), a cycle (the upstream chain leads back to the version), no licence, only expired
  licences, only licences whose offer forbids derivatives.
- An *active licence* is a contract the firm bought for exactly that upstream version, paid
  and not refunded (paid, delivered, disputed, settled or partly refunded) and inside its term
  (``selectors.licence.licence_ends_at``: a one-off from its delivery, a subscription from payment;
  a paid one-off not yet delivered has not started its term and counts as current).
  When several qualify, the one paid last applies, and its offer's ``derivative_share_bp`` is
  frozen into the lineage link. A lineage link is declared once and never changed.
- Revenue share rounding: the share is ``floor(base × share_bp / 10000)`` of the downstream
  seller's *base*, what it keeps after the exchange's commission (and after a partial refund);
  the commission is unchanged by lineage. Rounding down favours the downstream seller by less
  than one fen. A share that rounds to 0 fen pays nothing and writes no share row. A full refund
  pays no share. The share is a leg of the settlement's (or partial refund's) one balanced
  ledger transfer (``services.escrow``) and is audited as ``lineage.share_paid``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import (
    Contract,
    DatasetVersion,
    LedgerTransfer,
    LineageStep,
    Listing,
    RevenueShare,
    VersionLineage,
)
from exchange.models.orgs import Organization
from exchange.money import format_yuan
from exchange.selectors.licence import licence_ends_at, licence_term_over
from exchange.services.audit import audit_record
from exchange.services.sellers import require_seller

FIELD = "derived_from"
NOTES_MAX = 2000
MAX_CHAIN = 1000  # a chain longer than this is treated as a cycle (it cannot be one by construction)
# A licence counts while the buyer holds it: paid and never (fully) refunded.
LICENSED_STATUSES = Contract.LICENCE_HELD


def validate_share_bp(value: Any, *, derivatives_allowed: bool) -> int:
    """An offer's revenue share: a whole number of basis points from 0 to 10000 (100 %); above 0
    only when the offer allows derivatives."""
    field = "derivative_share_bp"
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("A revenue share is a whole number of basis points (100 = 1 %).",
                           fields={field: ["Enter a whole number of basis points from 0 to 10000."]})
    if not 0 <= value <= 10000:
        raise InvalidInput("A revenue share is at most 100 % (10000 basis points).",
                           fields={field: ["At most 100 % (10000 basis points), at least 0."]})
    if value and not derivatives_allowed:
        raise InvalidInput("A revenue share applies only to an offer that allows derivatives.",
                           fields={field: ["A share applies only when the offer allows derivatives; set it to 0."]})
    return value


def derivatives_licence_text(offer) -> str:
    """The licence clause of an offer that allows derivatives (services.trading.licence_render)."""
    share = (f"; {offer.derivative_share_percent} of its proceeds after commission from each sale of the derived "
             "data is paid to the licensor at settlement." if offer.derivative_share_bp else ".")
    return ("The licensee may sell data derived from this version (cleaned, relabelled, filtered, joined or "
            "anonymised) on the exchange, declaring it as derived from this version" + share)


def licence_is_current(contract: Contract, *, now=None) -> bool:
    """The firm holds the licence and its term has not ended (read ``deliveries`` with the contract)."""
    return contract.status in LICENSED_STATUSES and not licence_term_over(contract, now=now)


@dataclass(frozen=True)
class LineagePlan:
    """A checked declaration, ready to be written with the version it describes."""

    upstream: DatasetVersion
    licence: Contract
    share_bp: int
    steps: tuple[str, ...]
    notes: str


def _refuse(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, fields={FIELD: [message]})


def _visible_upstream(raw: Any, firm: Organization) -> DatasetVersion:
    unknown = NotFound("No such dataset version on the exchange.", fields={FIELD: ["No such dataset version."]})
    try:
        pk = uuid.UUID(str(raw))
    except (TypeError, ValueError):
        raise unknown from None
    visible = (Q(dataset__owner=firm) | Q(contracts__buyer=firm)
               | Q(dataset__listings__status=Listing.Status.PUBLISHED))
    version = (DatasetVersion.objects.filter(visible, pk=pk).select_related("dataset__owner").distinct().first())
    if version is None:
        raise unknown
    return version


def _clean_steps(steps: Any, notes: Any) -> tuple[tuple[str, ...], str]:
    if steps is None or steps == "":
        steps = []
    if isinstance(steps, str):
        steps = [s.strip() for s in steps.split(",") if s.strip()]
    if not isinstance(steps, (list, tuple)) or not all(isinstance(s, str) for s in steps):
        raise InvalidInput("Steps are a list of names.", fields={"lineage_steps": [
            f"Choose from: {', '.join(LineageStep.values)}."]})
    unknown = [s for s in steps if s not in LineageStep.values]
    if unknown:
        raise InvalidInput(f"Unknown step: {', '.join(unknown)}.", fields={"lineage_steps": [
            f"Unknown: {', '.join(unknown)}. Choose from: {', '.join(LineageStep.values)}."]})
    if notes is not None and not isinstance(notes, str):
        raise InvalidInput("The notes are text.", fields={"lineage_notes": ["Enter text."]})
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise InvalidInput(f"The notes are at most {NOTES_MAX} characters.",
                           fields={"lineage_notes": [f"At most {NOTES_MAX} characters."]})
    if not steps and not notes:
        raise InvalidInput("Say what was done to the upstream data: choose a step or describe it.",
                           fields={"lineage_steps": ["Choose at least one step, or describe the steps in the notes."]})
    return tuple(s for s in LineageStep.values if s in steps), notes


def _leads_back(upstream: DatasetVersion, version: DatasetVersion | None) -> bool:
    """True when following ``upstream``'s own lineage reaches ``version`` (a cycle)."""
    if version is None:
        return False
    current, seen = upstream.pk, 0
    while seen < MAX_CHAIN:
        link = VersionLineage.objects.filter(version_id=current).values_list("upstream_id", flat=True).first()
        if link is None:
            return False
        if link == version.pk:
            return True
        current, seen = link, seen + 1
    return True


def lineage_plan(*, actor: Actor, version: DatasetVersion | None, derived_from: Any, steps: Any = None,
                 notes: Any = None) -> LineagePlan:
    """Check a declaration for ``version`` (None: a version about to be uploaded) and return what
    will be recorded. Raises NotFound (unknown or invisible upstream) or InvalidInput naming the reason."""
    firm = actor.organization
    if firm is None:
        raise NotFound("No such dataset.")
    upstream = _visible_upstream(derived_from, firm)  # first: an id the firm may not see is 404 whatever else
    clean_steps, clean_notes = _clean_steps(steps, notes)
    if version is not None and upstream.pk == version.pk:
        raise _refuse("A version cannot be derived from itself.", "lineage_itself")
    if upstream.dataset.owner_id == firm.pk:
        raise _refuse("That is your own firm's data; lineage records data licensed from another seller.",
                      "lineage_own_data")
    if _leads_back(upstream, version):
        raise _refuse(f"A cycle: version {upstream.number} of “{upstream.dataset.title}” is itself derived "
                      "(directly or further up) from this version.", "lineage_cycle")
    now = timezone.now()
    licences = list(Contract.objects.filter(buyer=firm, dataset_version=upstream, status__in=LICENSED_STATUSES)
                    .select_related("offer").prefetch_related("deliveries").order_by("-paid_at", "-created_at"))
    if not licences:
        raise _refuse(f"Your firm holds no licence to version {upstream.number} of “{upstream.dataset.title}”: "
                      "buy it first.", "no_licence")
    current = [c for c in licences if licence_is_current(c, now=now)]
    if not current:
        end = max(licence_ends_at(c) for c in licences)
        raise _refuse(f"Your licence to version {upstream.number} of “{upstream.dataset.title}” expired on "
                      f"{timezone.localtime(end):%Y-%m-%d}.", "licence_expired")
    allowing = [c for c in current if c.offer.derivatives_allowed]
    if not allowing:
        raise _refuse(f"Your licence to version {upstream.number} of “{upstream.dataset.title}” does not allow "
                      "derivatives to be sold.", "derivatives_forbidden")
    licence = allowing[0]
    return LineagePlan(upstream=upstream, licence=licence, share_bp=int(licence.offer.derivative_share_bp),
                       steps=clean_steps, notes=clean_notes)


def lineage_record(*, actor: Actor, version: DatasetVersion, plan: LineagePlan) -> VersionLineage:
    """Write a checked declaration (inside the caller's transaction), audited."""
    if VersionLineage.objects.filter(version=version).exists():
        raise Conflict(f"Version {version.number} already declares what it was derived from; lineage is fixed once "
                       "declared.", code="lineage_declared", fields={FIELD: ["Already declared."]})
    link = VersionLineage.objects.create(version=version, upstream=plan.upstream, licence=plan.licence,
                                         share_bp=plan.share_bp, steps=list(plan.steps), notes=plan.notes,
                                         declared_by=actor.user)
    audit_record(actor=actor, action="lineage.declared", obj=version, details={
        "upstream": str(plan.upstream.pk), "licence": str(plan.licence.pk), "share_bp": plan.share_bp,
        "steps": list(plan.steps)})
    return link


def lineage_declare(*, actor: Actor, version: DatasetVersion, derived_from: Any, steps: Any = None,
                    notes: Any = None) -> VersionLineage:
    """Declare what an existing version of the actor's firm was derived from."""
    require_seller(actor, version.dataset)
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().select_related("dataset").get(pk=version.pk)
        plan = lineage_plan(actor=actor, version=version, derived_from=derived_from, steps=steps, notes=notes)
        return lineage_record(actor=actor, version=version, plan=plan)


# --- Settlement -------------------------------------------------------------------------
@dataclass(frozen=True)
class ShareSplit:
    lineage: VersionLineage
    upstream_seller: Organization
    base_fen: int
    share_bp: int
    share_fen: int


def share_fen(*, base_fen: int, share_bp: int) -> int:
    """The upstream share in whole fen, rounded down (see the module docstring)."""
    return base_fen * share_bp // 10000


def share_split(contract: Contract, *, base_fen: int) -> ShareSplit | None:
    """What of ``base_fen`` (the seller's proceeds after commission) goes upstream, or None."""
    link = (VersionLineage.objects.select_related("licence__seller")
            .filter(version_id=contract.dataset_version_id).first())
    if link is None or not link.share_bp or base_fen <= 0:
        return None
    amount = share_fen(base_fen=base_fen, share_bp=link.share_bp)
    if amount == 0:
        return None
    return ShareSplit(lineage=link, upstream_seller=link.licence.seller, base_fen=base_fen, share_bp=link.share_bp,
                      share_fen=amount)


def share_record(*, contract: Contract, split: ShareSplit, transfer: LedgerTransfer, actor: Actor) -> RevenueShare:
    """Record the share the transfer paid (inside the settlement's transaction), audited for the upstream seller."""
    share = RevenueShare.objects.create(contract=contract, lineage=split.lineage, upstream_seller=split.upstream_seller,
                                        transfer=transfer, base_fen=split.base_fen, share_bp=split.share_bp,
                                        share_fen=split.share_fen)
    audit_record(actor=actor, action="lineage.share_paid", obj=contract, organization=split.upstream_seller, details={
        "upstream_version": str(split.lineage.upstream_id), "derived_version": str(split.lineage.version_id),
        "base_fen": split.base_fen, "share_bp": split.share_bp, "share_fen": split.share_fen,
        "transfer": str(transfer.pk), "text": f"{format_yuan(split.share_fen)} to {split.upstream_seller.name}"})
    return share
