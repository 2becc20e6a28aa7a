"""The typed inputs of the metadata builders (``workers.metadata``), read from the models.

Two views of a listing's version:

* :func:`listing_metadata` — public: what the listing page shows anyway (title, texts,
  the seller's name, schema, public hash and size, the redacted report's label counts,
  active offers). No credit code, no original file name, no stored file location.
* :func:`delivery_metadata` — a buyer's package: the contract's licence, the seller's
  credit code (the manifest names it too), the stored report's label statistics.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from exchange.selectors.quality import report_for_viewer, version_report
from workers.metadata import (
    RAI_ATTRS,
    DatasetMeta,
    LabelStats,
    Licence,
    Offer,
    Party,
    Rai,
    TextLayout,
)
from workers.quality.report import Report


def listing_url(listing_id: Any, request=None) -> str:
    """The absolute URL of a listing's public page: as reached (``request``) or, without a
    request (a worker building a package), under ``PUBLIC_BASE_URL``."""
    path = reverse("web:listing", kwargs={"listing_id": listing_id})
    return request.build_absolute_uri(path) if request is not None else settings.PUBLIC_BASE_URL + path


def croissant_url(listing_id: Any, request=None) -> str:
    path = reverse("api:catalog-croissant", kwargs={"pk": listing_id})
    return request.build_absolute_uri(path) if request is not None else settings.PUBLIC_BASE_URL + path


def rai_of(dataset) -> Rai:
    return Rai(**{a: getattr(dataset, f"rai_{a}") or "" for a in RAI_ATTRS},
               annotations_per_item=dataset.rai_annotations_per_item)


def label_stats_of(report: Report | None, declared: list | None = None) -> LabelStats | None:
    """The label statistics of a typed quality report, or None (no label column checked).

    Labels in the ``declared`` order, then the others by count (the stored JSON keeps no order)."""
    if report is None or report.labels is None:
        return None
    labels = report.labels
    order = {str(lab): i for i, lab in enumerate(declared or [])}
    counts = tuple(sorted(((str(k), int(v)) for k, v in (labels.distribution or {}).items()
                           if isinstance(v, int) and not isinstance(v, bool)),
                          key=lambda kv: (order.get(kv[0], len(order)), -kv[1], kv[0])))
    ratio = labels.imbalance_ratio
    return LabelStats(
        column=str(labels.column or ""), counts=counts, rows=int(report.rows or 0),
        missing=int(labels.missing or 0), outside_set=int(labels.outside_set or 0), conflicts=int(labels.conflicts or 0),
        imbalance_ratio=float(ratio) if isinstance(ratio, int | float) and not isinstance(ratio, bool) else None,
    )


PII_KINDS = ("mobile", "email", "resident_id", "bank_card")


def pii_counts_of(report: Report | None) -> tuple[tuple[str, int], ...] | None:
    """The quality check's personal-data hits per kind (counts only), or None without a report."""
    if report is None:
        return None
    return tuple((kind, int(getattr(report.pii, kind) or 0)) for kind in PII_KINDS)


def layout_of(report: Report | None) -> TextLayout:
    """Encoding and delimiter of a delimited text file, as its quality check found them."""
    if report is None:
        return TextLayout()
    encoding = report.encoding if report.encoding in ("utf-8", "utf-8-sig", "gb18030") else "utf-8"
    delimiter = report.delimiter if isinstance(report.delimiter, str) and report.delimiter else ","
    return TextLayout(encoding=encoding, delimiter=delimiter, header=True)


def _meta(*, listing, version, url: str, report: Report | None, creator: Party, licence: Licence,
          offers: tuple[Offer, ...] = ()) -> DatasetMeta:
    dataset = listing.dataset
    return DatasetMeta(
        listing_id=str(listing.pk), version_id=str(version.pk), name=listing.title or dataset.title,
        description=dataset.description or listing.summary or "", url=url, creator=creator,
        publisher=Party(settings.EXCHANGE_NAME, url=settings.PUBLIC_BASE_URL), format=version.format,
        schema=dataset.schema if isinstance(dataset.schema, dict) else {}, version=version.number, kind=dataset.kind,
        category=dataset.category, keywords=tuple(str(t) for t in dataset.tags or ()), licence=licence,
        date_published=listing.published_at, date_modified=version.created_at, row_count=version.row_count,
        byte_size=version.byte_size, sha256=version.sha256, contains_personal_data=dataset.contains_personal_data,
        legal_basis=dataset.legal_basis if dataset.contains_personal_data else "", pii_counts=pii_counts_of(report),
        layout=layout_of(report), label_stats=label_stats_of(report, (dataset.schema or {}).get("labels")), rai=rai_of(dataset), offers=offers,
    )


def listing_metadata(listing, *, request=None, offers=None, report: Report | None = None) -> DatasetMeta:
    """Public metadata of a published listing (its current version). ``offers``: the
    active offers if already loaded; ``report``: the report as the public sees it, if the
    caller has it (else it is redacted here)."""
    version = listing.version
    url = listing_url(listing.pk, request)
    active = offers if offers is not None else listing.offers.filter(is_active=True)
    return _meta(
        listing=listing, version=version, url=url, report=report if report is not None else report_for_viewer(version),
        creator=Party(listing.dataset.owner.name),
        licence=Licence("Shujiao data licence: purpose, term, download limit and redistribution per offer, "
                        "frozen in each contract", url=url),
        offers=tuple(Offer(o.name, o.price_fen, o.currency) for o in active),
    )


def delivery_metadata(delivery) -> DatasetMeta:
    """Metadata of the version a delivery carries, for the buyer's package."""
    contract = delivery.contract
    version = delivery.dataset_version
    return _meta(
        listing=contract.listing, version=version, url=listing_url(contract.listing_id), report=version_report(version),
        creator=Party(contract.seller.name, identifier=contract.seller.credit_code),
        licence=Licence(f"Shujiao data licence of contract {contract.pk}", path="LICENSE.txt"),
    )
