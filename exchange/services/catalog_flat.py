"""The flat catalog: one function keeps each listing's list-page columns, one counter marks changes.

``listings_refresh_flat`` recomputes a listing's best price, report summary (score, grade, rows),
category, kind, blurb and search text from its offers, version, report, dataset and seller.
Every service that changes one of those calls it (publish, review, offer change, retire,
dataset edit, stored quality report); the migration ``0007_catalog_flat`` backfills with it.
``catalog_changed`` bumps the generation that cached pages, counts, facets and market figures are keyed on
(after commit; in the database row and, with a shared cache, in the cache key read with each cached page).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Min

SEARCH_TEXT_LIMIT = 4000
BLURB_LIMIT = 200
FLAT_FIELDS = ["best_price_fen", "quality_score", "quality_grade", "row_count", "category", "kind", "blurb",
               "search_text"]


def search_text_of(*parts: object) -> str:
    """Lower-cased, whitespace-collapsed text of the parts, bounded in length."""
    text = " ".join(" ".join(str(p).split()) for p in parts if p)
    return text.lower()[:SEARCH_TEXT_LIMIT]


def search_terms(q: str) -> list[str]:
    """The query's terms as they are matched against ``search_text`` (lower-cased, split on spaces)."""
    return [t for t in search_text_of(q).split(" ") if t][:8]


def blurb_of(summary: str, description: str) -> str:
    text = " ".join((summary or description or "").split())
    return text if len(text) <= BLURB_LIMIT else text[: BLURB_LIMIT - 1] + "…"


def listings_refresh_flat(listing_ids: Iterable, *, models=None, batch: int = 500) -> int:
    """Recompute the flat columns of these listings (3 queries a batch). Returns how many were written.

    ``models`` lets the migration pass its historical models (``{"Listing": ..., "Offer": ...}``).
    """
    if models is None:
        from exchange.models import Listing, Offer
    else:
        Listing, Offer = models["Listing"], models["Offer"]
    ids = list(dict.fromkeys(listing_ids))
    written = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        prices = dict(Offer.objects.filter(listing_id__in=chunk, is_active=True).values("listing_id")
                      .annotate(p=Min("price_fen")).values_list("listing_id", "p"))
        rows = list(Listing.objects.filter(pk__in=chunk)
                    .select_related("dataset__owner", "version")
                    .only("id", "title", "summary", "version__row_count", "dataset__title", "dataset__description",
                          "dataset__tags", "dataset__category", "dataset__kind", "dataset__owner__name",
                          "version_id", "dataset_id", *FLAT_FIELDS))
        reports = _reports_of(models, [row.version_id for row in rows])
        for row in rows:
            dataset = row.dataset
            score_grade = reports.get(row.version_id)
            row.best_price_fen = prices.get(row.pk)
            row.quality_score, row.quality_grade = score_grade if score_grade else (None, "")
            row.row_count = row.version.row_count
            row.category, row.kind = dataset.category, dataset.kind
            row.blurb = blurb_of(row.summary, dataset.description)
            tags = dataset.tags if isinstance(dataset.tags, list) else []
            row.search_text = search_text_of(row.title, row.summary, dataset.title, " ".join(map(str, tags)),
                                             dataset.owner.name, dataset.description)
        Listing.objects.bulk_update(rows, FLAT_FIELDS)
        written += len(rows)
    if models is None and ids:
        catalog_changed()
    return written


def _reports_of(models, version_ids) -> dict:
    if models is None:
        from exchange.models import QualityReport
    else:
        QualityReport = models["QualityReport"]
    return {v: (s, g) for v, s, g in QualityReport.objects.filter(version_id__in=version_ids)
            .values_list("version_id", "score", "grade")}


def listings_of_dataset_refresh(dataset_id) -> int:
    from exchange.models import Listing

    return listings_refresh_flat(Listing.objects.filter(dataset_id=dataset_id).values_list("pk", flat=True))


def listings_of_version_refresh(version_id) -> int:
    from exchange.models import Listing

    return listings_refresh_flat(Listing.objects.filter(version_id=version_id).values_list("pk", flat=True))


def listings_of_seller_refresh(organization_id) -> int:
    from exchange.models import Listing

    return listings_refresh_flat(Listing.objects.filter(dataset__owner_id=organization_id).values_list("pk", flat=True))


GENERATION_KEY = "catalog:generation"


def generation_in_cache() -> bool:
    """True when the default cache is shared by every process (Redis, Memcached, database): then the
    generation is read from it, in the same round trip as a cached page. A per-process cache
    (local memory, the embedded default) cannot carry a bump from the worker to the web process,
    so there the database row is the generation."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return not backend.endswith(("LocMemCache", "DummyCache"))


def catalog_changed() -> None:
    """Bump the catalog generation once the current transaction commits (at once outside one)."""
    transaction.on_commit(_bump)


def _bump() -> None:
    from exchange.models import CatalogGeneration

    if not CatalogGeneration.objects.filter(pk=1).update(value=F("value") + 1):
        CatalogGeneration.objects.get_or_create(pk=1, defaults={"value": 1})
    if generation_in_cache():
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # missing (flushed or evicted): any fresh value invalidates every cached page
            seed_cached_generation()


def seed_cached_generation() -> int:
    """Start the cached generation at a value no cached entry was stored under (the clock in ns)."""
    cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
    value = cache.get(GENERATION_KEY)
    return value if value is not None else time.time_ns()


def catalog_generation() -> int:
    """The current generation: one cache read (shared cache) or one primary-key read."""
    if generation_in_cache():
        value = cache.get(GENERATION_KEY)
        return value if value is not None else seed_cached_generation()
    from exchange.models import CatalogGeneration

    value = CatalogGeneration.objects.filter(pk=1).values_list("value", flat=True).first()
    return value or 0
