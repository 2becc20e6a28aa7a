"""When a buyer's licence ends: the one rule behind "may not buy it again" (``selectors.purchase``),
"may derive from it" (``services.lineage``), "receives a subscription's updates"
(``services.subscriptions``) and the expiry written into every delivery package (``services.delivery``).

The term is ``Contract.term_days`` (frozen at signing) counted from the start the signed licence text
names:

- a **one-off** licence runs "from delivery" (clause 3): from the moment the exchange issued the
  contract's initial package (``Delivery.issued_at``, signed into its manifest). A paid contract whose
  package is not issued yet has not started its term: it has no end yet (None).
- a **subscription** runs "from payment" (its own clause): from ``Contract.paid_at``. The end is known
  as soon as the buyer paid, so an update package built before (or without) the initial one carries it.

Whether the buyer holds the licence at all (paid, not wholly refunded) is ``Contract.LICENCE_HELD``;
this module only says until when.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from exchange.models import Contract, Offer


def licence_starts_at(contract: Contract, *, issued_at: datetime | None = None) -> datetime | None:
    """When the licence's term starts, or None while it has not (unpaid; a one-off not yet delivered).

    ``issued_at``: the initial package being issued now (the build asks before the delivery is stored);
    otherwise the contract's initial delivery is read (``prefetch_related("deliveries")`` makes it free)."""
    if contract.paid_at is None:
        return None
    if contract.offer.kind == Offer.Kind.SUBSCRIPTION:
        return contract.paid_at
    if issued_at is None:
        initial = contract.delivery
        issued_at = initial.issued_at if initial is not None else None
    return issued_at


def licence_ends_at(contract: Contract, *, issued_at: datetime | None = None) -> datetime | None:
    """When the buyer's licence ends: ``term_days`` after it started, to the whole second (as the package's
    manifest states it); None while it has not started."""
    start = licence_starts_at(contract, issued_at=issued_at)
    return (start + timedelta(days=contract.term_days)).replace(microsecond=0) if start is not None else None


def licence_term_over(contract: Contract, *, now: datetime | None = None) -> bool:
    """The term has ended (a term not started yet has not ended)."""
    end = licence_ends_at(contract)
    return end is not None and end <= (now or timezone.now())
