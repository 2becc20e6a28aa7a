"""What a visitor or the seller may see of a listing's revisions."""

from __future__ import annotations

from django.db.models import F, QuerySet

from exchange.models import Listing, ListingRevision, Organization


def _history(qs: QuerySet[ListingRevision]) -> QuerySet[ListingRevision]:
    # the columns a history row shows; the report JSON and the diff JSON stay in the database
    return (qs.select_related("version", "previous_version")
            .annotate(grade=F("version__quality_report__grade"), score=F("version__quality_report__score"))
            .defer("diff", "version__file", "previous_version__file")
            .order_by("-version__number"))


def listing_revisions_public(listing: Listing) -> QuerySet[ListingRevision]:
    """The live revisions of a published listing, newest version first (what buyers see)."""
    return _history(ListingRevision.objects.filter(listing=listing, status=ListingRevision.Status.LIVE))


def listing_revisions_of(listing: Listing, firm: Organization) -> QuerySet[ListingRevision]:
    """Every revision of the firm's own listing, including those in review or rejected."""
    return _history(ListingRevision.objects.filter(listing=listing, listing__dataset__owner=firm))


def revision_with_diff(*, listing: Listing, revision_id, public: bool) -> ListingRevision | None:
    qs = ListingRevision.objects.filter(listing=listing, pk=revision_id).select_related("version", "previous_version")
    if public:
        qs = qs.filter(status=ListingRevision.Status.LIVE)
    return qs.first()
