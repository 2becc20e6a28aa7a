"""Reads for cleaning lineage: a listing's chain both ways, a version's declaration, the revenue
shares a firm paid or received. A constant number of queries whatever the chain's width."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from exchange.models import (
    Contract,
    DatasetVersion,
    LineageStep,
    Listing,
    Organization,
    RevenueShare,
    VersionLineage,
)


@dataclass(frozen=True)
class LineageLink:
    """One side of a lineage edge as a visitor may see it. ``listing_id``/``title``/``seller`` are
    set only when the other side is on a published listing; otherwise it is "not listed"."""

    version_number: int
    steps: tuple[str, ...]  # labels, for pages
    notes: str
    share_bp: int
    listing_id: str | None = None
    title: str = ""
    seller: str = ""
    step_codes: tuple[str, ...] = ()  # LineageStep values, for the API

    @property
    def share_percent(self) -> str:
        return f"{self.share_bp / 100:g}%"

    @property
    def listed(self) -> bool:
        return self.listing_id is not None


@dataclass(frozen=True)
class ListingLineage:
    derived_from: LineageLink | None
    used_in: list[LineageLink] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.derived_from is None and not self.used_in


def _published_by_dataset(dataset_ids) -> dict:
    """The newest published listing of each dataset (one query)."""
    found: dict = {}
    for listing in (Listing.objects.filter(dataset_id__in=set(dataset_ids), status=Listing.Status.PUBLISHED)
                    .select_related("dataset__owner").order_by("dataset_id", "-published_at", "pk")):
        found.setdefault(listing.dataset_id, listing)
    return found


def _link(edge: VersionLineage, version: DatasetVersion, listing: Listing | None) -> LineageLink:
    common = {"version_number": version.number, "steps": tuple(edge.step_labels), "notes": edge.notes,
              "share_bp": edge.share_bp, "step_codes": tuple(s for s in edge.steps if s in LineageStep.values)}
    if listing is None:
        return LineageLink(**common)
    return LineageLink(**common, listing_id=str(listing.pk), title=listing.title, seller=listing.dataset.owner.name)


def listing_lineage(listing: Listing) -> ListingLineage:
    """Where the listed version came from, and which published listings were derived from any
    version of this listing's dataset. Three queries (two when nothing is derived from it)."""
    edges = list(VersionLineage.objects.select_related("version", "upstream")
                 .filter(Q(version_id=listing.version_id) | Q(upstream__dataset_id=listing.dataset_id)))
    up = next((e for e in edges if e.version_id == listing.version_id), None)
    down = [e for e in edges if e.upstream.dataset_id == listing.dataset_id]
    wanted = {e.version.dataset_id for e in down}
    if up is not None:
        wanted.add(up.upstream.dataset_id)
    listings = _published_by_dataset(wanted) if wanted else {}
    derived_from = _link(up, up.upstream, listings.get(up.upstream.dataset_id)) if up else None
    used_in, seen = [], set()
    for edge in sorted(down, key=lambda e: e.created_at):
        target = listings.get(edge.version.dataset_id)
        # Only published derivatives are shown, each listing once, and only if it lists the derived version's data.
        if target is None or target.pk in seen:
            continue
        seen.add(target.pk)
        used_in.append(_link(edge, edge.version, target))
    return ListingLineage(derived_from=derived_from, used_in=used_in)


def version_lineage(version: DatasetVersion) -> VersionLineage | None:
    return VersionLineage.objects.select_related("upstream__dataset__owner", "licence").filter(version=version).first()


def licensed_versions(organization: Organization) -> QuerySet[Contract]:
    """The firm's bought licences (any state but unpaid/cancelled), newest first: the candidates a seller
    may declare lineage from (services.lineage decides which one qualifies)."""
    return (Contract.objects.filter(buyer=organization).exclude(status__in=(Contract.Status.AWAITING_PAYMENT,
                                                                           Contract.Status.CANCELLED))
            .select_related("dataset_version__dataset", "offer", "listing").prefetch_related("deliveries")
            .order_by("-paid_at", "-created_at"))


def shares_paid(organization: Organization) -> QuerySet[RevenueShare]:
    """Shares of the firm's sales paid upstream."""
    return (RevenueShare.objects.filter(contract__seller=organization)
            .select_related("contract__listing", "upstream_seller").order_by("-created_at", "-pk"))


def shares_received(organization: Organization) -> QuerySet[RevenueShare]:
    """Shares the firm received from sales of data derived from its data."""
    return (RevenueShare.objects.filter(upstream_seller=organization)
            .select_related("contract__listing", "contract__seller", "lineage__upstream__dataset")
            .order_by("-created_at", "-pk"))
