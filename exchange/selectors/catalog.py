"""What a visitor or a firm may see of datasets, versions and listings."""

from __future__ import annotations

import hashlib

from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Func, Q, QuerySet, TextField

from exchange.models import Dataset, DatasetVersion, Listing, Offer, Organization
from exchange.models.catalog import Category
from exchange.services.catalog_flat import catalog_generation, search_terms

GRADES = ["A", "B", "C", "D", "E"]


# What a catalog card shows: the listing's flat columns, its live version's file facts (format,
# size, date: columns of the version row, read in the same join, never the report JSON) and its
# seller's name, city and status.
CARD_FIELDS = ("id", "title", "blurb", "status", "published_at", "best_price_fen", "quality_score", "quality_grade",
               "row_count", "category", "kind", "dataset_id", "dataset__tags", "dataset__owner_id",
               "dataset__owner__name", "dataset__owner__city", "dataset__owner__verification_status",
               "version_id", "version__format", "version__byte_size", "version__created_at")
# Sort keys: each is served by a partial index on (column, id); the tie-break follows the direction.
ORDERINGS = {"published_at": "published_at", "min_price_fen": "best_price_fen", "best_price_fen": "best_price_fen",
             "title": "title", "quality_score": "quality_score", "version__quality_report__score": "quality_score"}
CACHE_SECONDS = 300


def listings_public() -> QuerySet[Listing]:
    """Published listings with their dataset, seller, version and report (a listing's own page)."""
    return (Listing.objects.filter(status=Listing.Status.PUBLISHED)
            .select_related("dataset__owner", "version__quality_report"))


def _order(ordering: str) -> tuple[str, str]:
    desc = ordering.startswith("-")
    column = ORDERINGS.get(ordering.lstrip("-"))
    if column is None:
        return "-published_at", "-pk"
    return ("-" if desc else "") + column, "-pk" if desc else "pk"


def _text_filter(qs: QuerySet[Listing], q: str) -> QuerySet[Listing]:
    """Every term must occur in ``search_text``. On PostgreSQL a 3+ character term is served by the
    trigram index, a 2-character one by the bigram index (then checked with LIKE); SQLite uses LIKE."""
    for term in search_terms(q):
        if connection.vendor == "postgresql" and len(term) == 2 and any(ord(c) > 127 for c in term):
            qs = qs.alias(grams=Func(F("search_text"), function="shujiao_bigrams",
                                     output_field=ArrayField(TextField()))).filter(grams__contains=[term])
        qs = qs.filter(search_text__contains=term)
    return qs


def catalog_search(
    *, q: str = "", category: str = "", kind: str = "", price_min: int | None = None,
    price_max: int | None = None, min_grade: str = "", seller: str = "", ordering: str = "-published_at",
) -> QuerySet[Listing]:
    """Published listings matching the filters, in a stable order, reading only the card columns."""
    qs = Listing.objects.filter(status=Listing.Status.PUBLISHED)
    if q:
        qs = _text_filter(qs, q)
    if category:
        qs = qs.filter(category=category)
    if kind:
        qs = qs.filter(kind=kind)
    if price_min is not None:
        qs = qs.filter(best_price_fen__gte=price_min)
    if price_max is not None:
        qs = qs.filter(best_price_fen__lte=price_max)
    if min_grade in GRADES:
        qs = qs.filter(quality_grade__in=GRADES[: GRADES.index(min_grade) + 1])
    if seller:
        qs = qs.filter(dataset__owner_id=seller)
    return qs.order_by(*_order(ordering))


def _cache_key(kind: str, qs: QuerySet) -> str:
    sql, params = qs.query.sql_with_params()
    digest = hashlib.sha256(f"{sql}|{params!r}".encode()).hexdigest()[:32]
    return f"catalog:{catalog_generation()}:{kind}:{digest}"


class CatalogPage:
    """A catalog result set for Django's (and DRF's) paginator: the count is cached per catalog
    generation, and a page reads ids first from the narrow sort index, then only those rows."""

    ordered = True

    def __init__(self, qs: QuerySet[Listing]):
        self.qs = qs
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None and self.qs.query.is_empty():  # .none(): nothing to count or cache
            self._count = 0
        if self._count is None:
            key = _cache_key("count", self.qs)
            self._count = cache.get(key)
            if self._count is None:
                self._count = self.qs.order_by().count()
                cache.set(key, self._count, CACHE_SECONDS)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        ids = list(self.qs.values_list("pk", flat=True)[index])
        if not ids:
            return []
        rows = {row.pk: row for row in Listing.objects.filter(pk__in=ids)
                .select_related("dataset__owner", "version").only(*CARD_FIELDS)}
        return [rows[pk] for pk in ids if pk in rows]


def catalog_page(qs: QuerySet[Listing]) -> CatalogPage:
    return CatalogPage(qs)


def catalog_facets(qs: QuerySet[Listing]) -> dict[str, list[tuple[str, str, int]]]:
    """Counts per category and kind within the current result set (cached per catalog generation)."""
    empty = qs.query.is_empty()
    key = None if empty else _cache_key("facets", qs)
    counts = {"category": {}, "kind": {}} if empty else cache.get(key)
    if counts is None:
        base = qs.order_by()
        counts = {"category": dict(base.values_list("category").annotate(n=Count("pk"))),
                  "kind": dict(base.values_list("kind").annotate(n=Count("pk")))}
        cache.set(key, counts, CACHE_SECONDS)
    return {
        "category": [(v, label, counts["category"].get(v, 0)) for v, label in Category.choices],
        "kind": [(v, label, counts["kind"].get(v, 0)) for v, label in Dataset.Kind.choices],
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
            .order_by("-created_at", "-pk"))


def datasets_of(organization: Organization) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=organization).order_by("-created_at")


def versions_of(organization: Organization) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.filter(dataset__owner=organization).select_related("dataset").order_by("-created_at")


def offers_visible(organization: Organization | None) -> QuerySet[Offer]:
    cond = Q(listing__status=Listing.Status.PUBLISHED, is_active=True)
    if organization is not None:
        cond |= Q(listing__dataset__owner=organization)
    return Offer.objects.filter(cond).select_related("listing")
