"""Subscriptions (issue 11): an offer of kind ``subscription`` licenses every version published
to its listing during the term, not only the one listed at purchase.

* The term runs ``term_days`` from payment (``selectors.licence.licence_ends_at``, the one licence-term rule).
* A subscription contract is *active* while its buyer holds the licence (``Contract.LICENCE_HELD``:
  in escrow, delivered, disputed, settled or partly refunded — not refunded or cancelled), its term has not ended and its
  initial delivery was not revoked or failed (``active_subscriptions``).
* When a revision goes live on a listing (``services.revisions``: at once, or after staff
  review) every active subscription gets one *update* delivery of the new version
  (``subscription_updates_create``), unique per (contract, version), so publishing twice,
  a retried task or a raced review makes one. The build is the ordinary delivery build
  (``services.delivery``: one task per delivery, claim, heartbeat, sweeper), dispatched after
  commit; it adds the diff between the version the subscriber last received and the new one
  (``update_diff``) as ``metadata/diff.json``. Update deliveries never move money: escrow is
  released by the initial delivery as for one-off offers.
* A subscription paid while its listing already carries a newer version than the contract's
  gets that version as an update at once (``subscription_catch_up``); the delivery sweeper
  repairs any subscription a race left behind the listing (``subscriptions_catch_up_sweep``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from exchange.actor import Actor
from exchange.models import Contract, DatasetVersion, Delivery, Listing, ListingRevision, Offer
from exchange.selectors.licence import licence_ends_at
from exchange.services.audit import audit_record
from exchange.services.dispatch import enqueue_on_commit

WORKER = "subscriptions"
DIFF_PATH = "metadata/diff.json"
ACTIVE_CONTRACT = Contract.LICENCE_HELD
_ENDED_INITIAL = (Delivery.Status.REVOKED, Delivery.Status.FAILED)


def subscription_ends_at(contract: Contract) -> datetime | None:
    """When a subscription's term ends (None: not paid yet, or not a subscription): its licence's end."""
    if contract.offer.kind != Offer.Kind.SUBSCRIPTION:
        return None
    return licence_ends_at(contract)


def active_subscriptions(listing: Listing, *, now: datetime | None = None) -> list[Contract]:
    """The listing's subscription contracts that receive a version published now."""
    now = now or timezone.now()
    candidates = (Contract.objects.filter(listing=listing, offer__kind=Offer.Kind.SUBSCRIPTION,
                                          status__in=ACTIVE_CONTRACT, paid_at__isnull=False)
                  .select_related("offer", "buyer", "seller", "listing").prefetch_related("deliveries")
                  .order_by("paid_at"))
    active = []
    for contract in candidates:
        ends = subscription_ends_at(contract)
        initial = contract.delivery
        if ends is None or ends <= now or initial is None or initial.status in _ENDED_INITIAL:
            continue
        active.append(contract)
    return active


def _last_version(contract: Contract) -> DatasetVersion:
    """The newest version the contract has a delivery of (queued or better, not failed)."""
    deliveries = [d for d in contract.deliveries.all() if d.status != Delivery.Status.FAILED]
    versions = [d.dataset_version for d in deliveries] or [contract.dataset_version]
    return max(versions, key=lambda v: v.number)


def _update_create(contract: Contract, version: DatasetVersion, *, actor: Actor,
                   revision: ListingRevision | None) -> Delivery | None:
    """One update delivery of ``version`` for ``contract`` (caller's transaction); None when it has one."""
    if Delivery.objects.filter(contract=contract, dataset_version=version).exists():
        return None
    previous = _last_version(contract)
    if previous.number >= version.number:
        return None
    ends = subscription_ends_at(contract)
    delivery = Delivery.objects.create(contract=contract, dataset_version=version, initial=False, diff_from=previous,
                                       queued_at=timezone.now(), bytes_total=version.byte_size)
    audit_record(actor=actor, action="delivery.queued", obj=delivery, organization=contract.buyer, details={
        "contract": str(contract.pk), "dataset_version": str(version.pk), "version": version.number,
        "update": True, "diff_from": previous.number, "subscription_ends_at": ends,
        "revision": str(revision.pk) if revision else None})
    from exchange.services.delivery import DELIVERY_BUILD_TASK

    enqueue_on_commit(DELIVERY_BUILD_TASK, str(delivery.pk))
    return delivery


def subscription_updates_create(*, listing: Listing, revision: ListingRevision, actor: Actor) -> list[Delivery]:
    """Inside the transaction that made ``revision`` live: an update delivery for every active
    subscriber of the listing (idempotent: at most one per contract and version)."""
    version = revision.version
    made = []
    for contract in active_subscriptions(listing):
        # lock the contract so a refund racing this cannot leave an update queued for a closed contract
        locked = Contract.objects.select_for_update(of=("self",)).filter(pk=contract.pk,
                                                                         status__in=ACTIVE_CONTRACT).first()
        if locked is None:
            continue
        delivery = _update_create(contract, version, actor=actor, revision=revision)
        if delivery is not None:
            made.append(delivery)
    return made


def subscriptions_catch_up_sweep(*, now: datetime | None = None, limit: int = 200) -> int:
    """Repair what a race could leave out: an active subscription whose listing carries a newer
    version than any delivery it has (e.g. paid in the same instant the version went live, so
    neither transaction saw the other). Runs with the delivery sweeper; idempotent. Returns how many."""
    now = now or timezone.now()
    has_current = Delivery.objects.filter(contract=OuterRef("pk"), dataset_version=OuterRef("listing__version"))
    ids = list(Contract.objects.filter(offer__kind=Offer.Kind.SUBSCRIPTION, status__in=ACTIVE_CONTRACT,
                                       paid_at__isnull=False)
               .exclude(Exists(has_current)).order_by("paid_at").values_list("pk", flat=True)[:limit])
    made = 0
    for pk in ids:
        with transaction.atomic():
            contract = (Contract.objects.select_for_update(of=("self",)).filter(pk=pk, status__in=ACTIVE_CONTRACT)
                        .select_related("offer", "buyer", "listing__version").prefetch_related("deliveries").first())
            if contract is None:
                continue
            ends, initial = subscription_ends_at(contract), contract.delivery
            if ends is None or ends <= now or initial is None or initial.status in _ENDED_INITIAL:
                continue
            try:
                with transaction.atomic():
                    made += _update_create(contract, contract.listing.version, actor=Actor.system(WORKER),
                                           revision=None) is not None
            except IntegrityError:  # the go-live made it meanwhile
                continue
    return made


def subscription_catch_up(contract: Contract) -> Delivery | None:
    """On payment (caller's transaction): a subscription whose listing moved on since the contract
    was signed gets the listing's current version as an update delivery too."""
    if contract.offer.kind != Offer.Kind.SUBSCRIPTION:
        return None
    current = Listing.objects.select_related("version").get(pk=contract.listing_id).version
    if current.number <= contract.dataset_version.number:
        return None
    return _update_create(contract, current, actor=Actor.system(WORKER), revision=None)


# --- The diff in an update package --------------------------------------------------
@dataclass(frozen=True)
class UpdateDiff:
    """What an update delivery says changed: each live revision's stored diff from the version
    the subscriber had (``from_number``) up to the delivered one. ``pending`` lists revisions
    whose diff is not computed yet (the build computes them first and never ships without)."""

    from_number: int
    to_number: int
    steps: list[ListingRevision]

    @property
    def pending(self) -> list[ListingRevision]:
        return [r for r in self.steps if r.diff_status == ListingRevision.DiffStatus.PENDING]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "shujiao-update-diff/1", "from_version": self.from_number, "to_version": self.to_number,
                "steps": [{"revision": str(r.pk), "from_version": r.previous_version.number if r.previous_version
                           else None, "to_version": r.version.number, "changelog": r.changelog,
                           "live_at": r.live_at.isoformat() if r.live_at else None, "status": r.diff_status,
                           "error": r.diff_error or None, "diff": r.diff} for r in self.steps]}

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")

    def manifest_entry(self) -> dict[str, Any]:
        return {"from_version": self.from_number, "to_version": self.to_number, "path": DIFF_PATH,
                "steps": [{"to_version": r.version.number, "status": r.diff_status} for r in self.steps]}


def _steps(delivery: Delivery) -> QuerySet[ListingRevision]:
    return (ListingRevision.objects.filter(listing_id=delivery.contract.listing_id, status=ListingRevision.Status.LIVE,
                                           version__number__gt=delivery.diff_from.number,
                                           version__number__lte=delivery.dataset_version.number)
            .select_related("version", "previous_version").order_by("version__number"))


def update_diff(delivery: Delivery) -> UpdateDiff:
    """The diff an update delivery carries, computing any diff still pending on the way (the
    same idempotent computation as the diff worker's: whichever finishes first stores it)."""
    from exchange.services.revisions import revision_diff_compute

    for revision in _steps(delivery):
        if revision.diff_status == ListingRevision.DiffStatus.PENDING:
            revision_diff_compute(revision_id=str(revision.pk))
    return UpdateDiff(delivery.diff_from.number, delivery.dataset_version.number, list(_steps(delivery)))
