"""What a visitor or a firm may see of datasets, versions and listings."""

from __future__ import annotations

from django.db.models import Min, Q, QuerySet

from exchange.models import Dataset, DatasetVersion, Listing, Offer, Organization
from exchange.models.catalog import Category

GRADES = ["A", "B", "C", "D", "E"]


def listings_public() -> QuerySet[Listing]:
    """Published listings with their dataset, seller, version, best price and grade."""
    return (
        Listing.objects.filter(status=Listing.Status.PUBLISHED)
        .select_related("dataset__owner", "version__quality_report")
        .annotate(min_price_fen=Min("offers__price_fen", filter=Q(offers__is_active=True)))
    )


def catalog_search(
    *, q: str = "", category: str = "", kind: str = "", price_min: int | None = None,
    price_max: int | None = None, min_grade: str = "", seller: str = "", ordering: str = "-published_at",
) -> QuerySet[Listing]:
    qs = listings_public()
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(summary__icontains=q) | Q(dataset__description__icontains=q)
            | Q(dataset__title__icontains=q) | Q(dataset__owner__name__icontains=q)
        )
    if category:
        qs = qs.filter(dataset__category=category)
    if kind:
        qs = qs.filter(dataset__kind=kind)
    if price_min is not None:
        qs = qs.filter(min_price_fen__gte=price_min)
    if price_max is not None:
        qs = qs.filter(min_price_fen__lte=price_max)
    if min_grade in GRADES:
        qs = qs.filter(version__quality_report__grade__in=GRADES[: GRADES.index(min_grade) + 1])
    if seller:
        qs = qs.filter(dataset__owner_id=seller)
    allowed = {"published_at", "-published_at", "min_price_fen", "-min_price_fen", "title", "-title",
               "version__quality_report__score", "-version__quality_report__score"}
    return qs.order_by(ordering if ordering in allowed else "-published_at", "pk")


def catalog_facets(qs: QuerySet[Listing]) -> dict[str, list[tuple[str, str, int]]]:
    """Counts per category and kind within the current result set."""
    from django.db.models import Count

    cats = dict(qs.order_by().values_list("dataset__category").annotate(n=Count("pk", distinct=True)))
    kinds = dict(qs.order_by().values_list("dataset__kind").annotate(n=Count("pk", distinct=True)))
    return {
        "category": [(v, label, cats.get(v, 0)) for v, label in Category.choices],
        "kind": [(v, label, kinds.get(v, 0)) for v, label in Dataset.Kind.choices],
    }


def listing_visible(*, listing_id, organization: Organization | None) -> Listing | None:
    """A listing the firm may see: any published one, or any of its own."""
    cond = Q(status=Listing.Status.PUBLISHED)
    if organization is not None:
        cond |= Q(dataset__owner=organization)
    return (
        Listing.objects.filter(cond, pk=listing_id)
        .select_related("dataset__owner", "version__quality_report")
        .first()
    )


def listings_of(organization: Organization) -> QuerySet[Listing]:
    return (Listing.objects.filter(dataset__owner=organization)
            .select_related("dataset", "version")
            .annotate(min_price_fen=Min("offers__price_fen", filter=Q(offers__is_active=True)))
            .order_by("-created_at"))


def datasets_of(organization: Organization) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=organization).order_by("-created_at")


def versions_of(organization: Organization) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.filter(dataset__owner=organization).select_related("dataset").order_by("-created_at")


def offers_visible(organization: Organization | None) -> QuerySet[Offer]:
    cond = Q(listing__status=Listing.Status.PUBLISHED, is_active=True)
    if organization is not None:
        cond |= Q(listing__dataset__owner=organization)
    return Offer.objects.filter(cond).select_related("listing")
