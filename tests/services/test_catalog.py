import os

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from exchange.models import AuditEvent, Dataset, DatasetVersion, Listing, Offer
from exchange.services import catalog
from tests.factories import (
    csv_bytes,
    make_dataset,
    parquet_bytes,
    passed_version,
    published_listing,
    upload,
)


def _stored_files() -> list[str]:
    root = default_storage.location
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs] if os.path.isdir(root) else []


def test_upload_streams_hash_size_format_and_queues_nothing_half(make_firm, actor_for, django_capture_on_commit_callbacks):
    org = make_firm()
    actor = actor_for(org)
    dataset = make_dataset(actor)
    with django_capture_on_commit_callbacks() as callbacks:
        version = upload(actor, dataset)
    import hashlib

    assert version.number == 1 and version.format == "csv" and version.status == "uploaded"
    assert version.sha256 == hashlib.sha256(csv_bytes()).hexdigest()
    assert version.byte_size == len(csv_bytes())
    assert default_storage.open(version.file.name).read() == csv_bytes()
    assert len(callbacks) == 1  # the quality check is enqueued after commit


@pytest.mark.parametrize("name,content,fragment", [
    ("empty.csv", b"", "empty"),
    ("data.csv", parquet_bytes(), "extension .csv but its content is Parquet"),
    ("data.csv", b"\x1f\x8b\x08\x00" + b"\x00" * 100, "gzip"),
    ("data.csv", "id,x\n1,2\n".encode("utf-16-le"), "UTF-16"),  # no byte-order mark
    ("data.csv", "id,x\n1,2\n".encode("utf-32"), "UTF-32"),
    ("data.csv", bytes(range(256)) * 40, "binary"),
    ("data.parquet", csv_bytes(), "extension .parquet but its content is CSV"),
])
def test_bad_files_are_refused_with_a_message_and_nothing_written(make_firm, actor_for, name, content, fragment):
    org = make_firm()
    actor = actor_for(org)
    dataset = make_dataset(actor)
    before_files, before_events = _stored_files(), AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        catalog.version_upload(actor=actor, dataset=dataset, upload=SimpleUploadedFile(name, content))
    assert fragment.lower() in (exc.value.message + " ".join(exc.value.fields.get("file", []))).lower()
    assert DatasetVersion.objects.count() == 0
    assert _stored_files() == before_files
    assert AuditEvent.objects.count() == before_events


def test_missing_file_refused(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    with pytest.raises(InvalidInput, match="Attach a data file"):
        catalog.version_upload(actor=actor, dataset=dataset, upload=None)


@override_settings(MAX_UPLOAD_BYTES=100)
def test_file_over_limit_refused(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    with pytest.raises(PayloadTooLarge, match="limit is 100 bytes"):
        upload(actor, dataset)
    assert DatasetVersion.objects.count() == 0


def test_same_bytes_twice_is_refused(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    upload(actor, dataset)
    with pytest.raises(Conflict, match="identical to version 1"):
        upload(actor, dataset)
    assert dataset.versions.count() == 1


def test_storage_failure_leaves_no_row(make_firm, actor_for, monkeypatch):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(catalog, "audit_record", boom)
    with pytest.raises(RuntimeError):
        upload(actor, dataset)
    assert DatasetVersion.objects.count() == 0
    assert not [f for f in _stored_files() if str(dataset.pk) in f]


@pytest.mark.parametrize("schema,fragment", [
    ({"fields": "nope"}, "fields"),
    ({"fields": [{"name": "a", "type": "integr"}]}, "integr"),
    ([1, 2], "JSON object"),
])
def test_invalid_table_schema_refused(make_firm, actor_for, schema, fragment):
    actor = actor_for(make_firm())
    with pytest.raises(InvalidInput) as exc:
        make_dataset(actor, schema=schema)
    assert fragment in " ".join(exc.value.fields["schema"])
    assert Dataset.objects.count() == 0


def test_labelled_dataset_needs_label_field(make_firm, actor_for):
    actor = actor_for(make_firm())
    with pytest.raises(InvalidInput, match="dataset has errors") as exc:
        make_dataset(actor, schema={"fields": [{"name": "a", "type": "string"}]})
    assert "labelField" in exc.value.fields["schema"][0]


@pytest.mark.parametrize("price", [-100, 0, 12.5, 12.0, "1200", True, 10**15])
def test_bad_prices_refused(make_firm, actor_for, price):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=version)
    with pytest.raises(InvalidInput) as exc:
        catalog.offer_create(actor=actor, listing=listing, name="x", price_fen=price)
    assert "price_fen" in exc.value.fields
    assert Offer.objects.count() == 0


def test_other_firms_dataset_is_not_found(make_firm, actor_for):
    owner, other = make_firm(), make_firm()
    dataset = make_dataset(actor_for(owner))
    with pytest.raises(NotFound):
        upload(actor_for(other), dataset)
    with pytest.raises(NotFound):
        catalog.dataset_update(actor=actor_for(other), dataset=dataset, title="stolen")
    dataset.refresh_from_db()
    assert dataset.title != "stolen" and DatasetVersion.objects.count() == 0


def test_submit_requires_passed_version(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=version)
    catalog.offer_create(actor=actor, listing=listing, name="x", price_fen=100)
    with pytest.raises(Conflict, match="still being checked"):
        catalog.listing_submit(actor=actor, listing=listing)
    assert Listing.objects.get(pk=listing.pk).status == "draft"


def test_submit_refusal_lists_gate_failures(make_firm, actor_for):
    from exchange.services import quality

    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset, content=b"id,text,label\n1,call 13812345678,pos\n2,x,neg\n")
    quality.quality_check_run(claim=quality.quality_check_claim(version_id=str(version.pk)))
    version.refresh_from_db()
    assert version.status == "failed"
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=version)
    catalog.offer_create(actor=actor, listing=listing, name="x", price_fen=100)
    with pytest.raises(Conflict) as exc:
        catalog.listing_submit(actor=actor, listing=listing)
    assert "failed its quality checks" in exc.value.message and "personal" in exc.value.message.lower()


def test_stored_schema_with_a_now_refused_property_fails_the_check_naming_it(make_firm, actor_for):
    from exchange.services import quality

    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset)
    # saved before the property was refused (bypassing the service's validation)
    Dataset.objects.filter(pk=dataset.pk).update(schema={**dataset.schema, "foreignKeys": []})
    quality.quality_check_run(claim=quality.quality_check_claim(version_id=str(version.pk)))
    version.refresh_from_db()
    assert version.status == "failed"
    failures = version.quality_report.report["gates"]["failures"]
    assert failures == ["the dataset's Table Schema is not accepted: foreignKeys: not supported by Shujiao "
                        "(supported: fields, primaryKey, missingValues, labelField, labels, inputFields, "
                        "personalData, name, title, description)"]


def test_unverified_firm_cannot_submit(make_firm, actor_for):
    actor = actor_for(make_firm(verified=False))
    dataset = make_dataset(actor)
    version = passed_version(actor, dataset)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=version)
    catalog.offer_create(actor=actor, listing=listing, name="x", price_fen=100)
    with pytest.raises(Forbidden, match="not verified"):
        catalog.listing_submit(actor=actor, listing=listing)
    assert Listing.objects.get(pk=listing.pk).status == "draft"


def test_full_listing_lifecycle_is_audited(make_firm, actor_for, staff_actor):
    actor = actor_for(make_firm())
    listing = published_listing(actor, staff_actor)
    assert listing.status == "published" and listing.published_at is not None
    catalog.listing_moderate(actor=staff_actor, listing=listing, action="suspend", note="complaint received")
    with pytest.raises(Conflict):
        catalog.listing_review(actor=staff_actor, listing=listing, approve=True)
    catalog.listing_retire(actor=actor, listing=listing)
    actions = list(AuditEvent.objects.filter(object_id=str(listing.pk)).values_list("action", flat=True))
    assert actions == ["listing.created", "listing.submitted", "listing.published", "listing.suspended", "listing.retired"]


def test_api_key_without_sell_scope_cannot_create(make_firm, actor_for):
    from exchange.actor import Actor
    from exchange.services.orgs import api_key_create

    org = make_firm()
    key, _ = api_key_create(actor=actor_for(org), name="reader", scopes=["read"])
    with pytest.raises(Forbidden, match="sell"):
        make_dataset(Actor(type="api_key", api_key=key, organization=org))
    assert Dataset.objects.count() == 0
