"""Building blocks for tests: data files, datasets, versions and listings made through services."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from django.core.files.uploadedfile import SimpleUploadedFile

from exchange.models import DatasetVersion
from exchange.services import catalog

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "text", "type": "string"},
        {"name": "label", "type": "string"},
    ],
    "primaryKey": ["id"],
    "labelField": "label",
    "labels": ["pos", "neg"],
}


def csv_bytes(rows: int = 20) -> bytes:
    lines = ["id,text,label"] + [f"{i},review number {i} 很好,{'pos' if i % 3 else 'neg'}" for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2], "text": ["a", "b"], "label": ["pos", "neg"]}), buf)
    return buf.getvalue()


def make_dataset(actor, **overrides):
    fields = {"title": "Product reviews 商品评论", "description": "Labelled reviews", "category": "text",
              "kind": "labelled", "tags": ["nlp"], "schema": dict(SCHEMA)}
    fields.update(overrides)
    return catalog.dataset_create(actor=actor, **fields)


def upload(actor, dataset, content: bytes | None = None, name: str = "reviews.csv"):
    return catalog.version_upload(actor=actor, dataset=dataset, upload=SimpleUploadedFile(name, content or csv_bytes()))


def passed_version(actor, dataset, content: bytes | None = None, name: str = "reviews.csv"):
    """A version whose quality check ran here (the worker's code path, called in-process)."""
    from exchange.services import quality

    version = upload(actor, dataset, content, name)
    claim = quality.quality_check_claim(version_id=str(version.pk))
    quality.quality_check_run(claim=claim)
    version.refresh_from_db()
    assert version.status == DatasetVersion.Status.PASSED, version.check_error
    return version


def published_listing(actor, staff_actor, *, price_fen: int = 1000, access_mode: str = "instant", dataset=None):
    dataset = dataset or make_dataset(actor)
    version = passed_version(actor, dataset)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=version)
    catalog.offer_create(actor=actor, listing=listing, name="Standard", price_fen=price_fen, access_mode=access_mode)
    catalog.listing_submit(actor=actor, listing=listing)
    return catalog.listing_review(actor=staff_actor, listing=listing, approve=True)


METER_SCHEMA = {
    "fields": [{"name": "meter_id", "type": "integer"}, {"name": "kwh", "type": "number"},
               {"name": "tariff", "type": "number"}, {"name": "label", "type": "string"}],
    "primaryKey": ["meter_id"], "labelField": "label",
}


def meter_csv(rows: int = 200) -> bytes:
    """Readings with two decimal columns: data a fingerprint can mark."""
    lines = ["meter_id,kwh,tariff,label"] + [f"{i},{(i * 37) % 900 + 0.25:.2f},0.{52 + i % 3},{'home' if i % 2 else 'shop'}"
                                             for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()
