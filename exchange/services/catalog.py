"""Datasets, versions, listings and offers: creation, upload, submission and review."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from exchange import storage
from exchange.actor import Actor
from exchange.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    storage_error,
)
from exchange.models import Dataset, DatasetVersion, Listing, ListingRevision
from exchange.models.catalog import Category, version_upload_path
from exchange.selectors import quality as quality_sel
from exchange.services.audit import audit_record
from exchange.services.catalog_flat import listings_of_dataset_refresh, listings_refresh_flat
from exchange.services.dispatch import enqueue_on_commit
from exchange.services.notifications import notify_listing_reviewed

# Offers live in services/offers.py; the names stay importable from here for every face.
from exchange.services.offers import offer_create, validate_price_fen  # noqa: E402,F401
from exchange.services.rai import RAI_INPUTS, rai_clean
from exchange.services.sellers import require_seller as _require_seller  # noqa: E402
from exchange.services.webhooks import emit
from exchange.validators import one_line

logger = logging.getLogger(__name__)

QUALITY_CHECK_TASK = "shujiao.quality.check_version"
# Extensions accepted for each detected format: the content decides, the name must agree.
EXTENSIONS = {
    "csv": {".csv", ".txt"},
    "tsv": {".tsv", ".tab", ".txt"},
    "jsonl": {".jsonl", ".ndjson", ".json"},
    "parquet": {".parquet", ".pq"},
}
HEAD_BYTES = 64 * 1024


def _clean_dataset_fields(fields: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "title" in fields or not partial:
        title = one_line(fields.get("title") or "", max_length=10_000)
        if not title:
            errors["title"] = ["A title is required."]
        elif len(title) > 200:
            errors["title"] = ["At most 200 characters."]
        clean["title"] = title
    if "description" in fields:
        clean["description"] = (fields.get("description") or "").strip()
    if "category" in fields or not partial:
        if fields.get("category") not in Category.values:
            errors["category"] = [f"Choose one of: {', '.join(Category.values)}."]
        clean["category"] = fields.get("category")
    if "kind" in fields or not partial:
        if fields.get("kind") not in Dataset.Kind.values:
            errors["kind"] = [f"Choose one of: {', '.join(Dataset.Kind.values)}."]
        clean["kind"] = fields.get("kind")
    if "tags" in fields:
        tags = fields.get("tags") or []
        if isinstance(tags, str):
            tags = [t for t in (p.strip() for p in tags.split(",")) if t]
        if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 40 for t in tags) or len(tags) > 20:
            errors["tags"] = ["Tags are up to 20 words of at most 40 characters."]
        clean["tags"] = tags
    if "schema" in fields or not partial:
        schema = fields.get("schema") or {}
        if not isinstance(schema, dict):
            errors["schema"] = ["The schema must be a Table Schema JSON object."]
        else:
            from workers.quality import validate_table_schema

            problems = validate_table_schema(schema)
            if problems:
                errors["schema"] = problems
        clean["schema"] = schema
    if "dialect" in fields:
        dialect = fields.get("dialect") or {}
        from workers.quality.dialect import validate_dialect

        problems = validate_dialect(dialect)
        if problems:
            errors["dialect"] = problems
        clean["dialect"] = dialect
    if "contains_personal_data" in fields:
        clean["contains_personal_data"] = bool(fields.get("contains_personal_data"))
    if "legal_basis" in fields:
        clean["legal_basis"] = (fields.get("legal_basis") or "").strip()
    rai, rai_errors = rai_clean(fields)
    clean.update(rai)
    errors.update(rai_errors)
    kind = clean.get("kind", fields.get("kind"))
    schema = clean.get("schema")
    if kind == Dataset.Kind.LABELLED and isinstance(schema, dict) and "schema" not in errors and not schema.get("labelField"):
        errors["schema"] = ["A labelled dataset must declare its label column as 'labelField'."]
    if clean.get("contains_personal_data") and not clean.get("legal_basis"):
        errors["legal_basis"] = ["State the legal basis for processing the personal information."]
    if isinstance(schema, dict) and "schema" not in errors and "contains_personal_data" in clean:
        # The schema's personalData extension and the declaration must agree: one truth.
        schema["personalData"] = clean["contains_personal_data"]
    if errors:
        raise InvalidInput("The dataset has errors.", fields=errors)
    return clean


def dataset_create_guard(*, actor: Actor) -> None:
    """Who may create datasets: a firm's member, or a key with ``sell`` (checked before input is read)."""
    if actor.organization is None:
        raise Forbidden("Only members of a firm can create datasets.")
    if not actor.has_scope("sell"):
        raise Forbidden("This API key lacks the 'sell' scope.", code="missing_scope")


def dataset_create(*, actor: Actor, **fields: Any) -> Dataset:
    dataset_create_guard(actor=actor)
    org = actor.organization
    fields.setdefault("contains_personal_data", False)
    clean = _clean_dataset_fields(fields, partial=False)
    with transaction.atomic():
        dataset = Dataset.objects.create(owner=org, **clean)
        audit_record(actor=actor, action="dataset.created", obj=dataset, details={"title": dataset.title, "kind": dataset.kind})
    return dataset


def dataset_changes_clean(*, dataset: Dataset, **fields: Any) -> dict[str, Any]:
    """The cleaned changes to a dataset, checked together with the fields they depend on
    (personal data needs a legal basis, a labelled kind needs a label field in the schema).
    Raises ``InvalidInput`` naming each bad field. Used by ``dataset_update`` and by forms that
    want the service's answer before they call it (the admin)."""
    unknown = sorted(set(fields) - _DATASET_EDITABLE)
    if unknown:
        raise InvalidInput(f"These dataset fields cannot be changed: {', '.join(unknown)}.",
                           fields={name: ["Not editable."] for name in unknown})
    if "contains_personal_data" in fields or "legal_basis" in fields:
        fields.setdefault("contains_personal_data", dataset.contains_personal_data)
        fields.setdefault("legal_basis", dataset.legal_basis)
    if "kind" in fields or "schema" in fields:
        fields.setdefault("kind", dataset.kind)
        fields.setdefault("schema", copy.deepcopy(dataset.schema))  # cleaning writes personalData into it
    return _clean_dataset_fields(fields, partial=True)


# The owner firm is never among them: a dataset stays with the firm that created it.
_DATASET_EDITABLE = {"title", "description", "category", "kind", "tags", "schema", "contains_personal_data", "legal_basis",
                     "dialect", *RAI_INPUTS}


def dataset_update(*, actor: Actor, dataset: Dataset, **fields: Any) -> Dataset:
    """The seller edits its dataset; exchange staff may correct it too (audited as staff)."""
    if not (actor.type == "staff" and actor.user is not None and actor.user.is_staff):
        _require_seller(actor, dataset)
    clean = dataset_changes_clean(dataset=dataset, **fields)
    changed = sorted(name for name, value in clean.items() if getattr(dataset, name) != value)
    with transaction.atomic():
        for name in changed:
            setattr(dataset, name, clean[name])
        dataset.save()
        audit_record(actor=actor, action="dataset.updated", obj=dataset, details={"fields": changed})
        listings_of_dataset_refresh(dataset.pk)
    return dataset


def _sha256_of(upload: UploadedFile) -> str:
    """The SHA-256 computed while the upload streamed in, or computed now in chunks."""
    digest = getattr(upload, "sha256", None)
    if digest:
        return digest
    h = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        h.update(chunk)
    upload.seek(0)
    return h.hexdigest()


def _store(path: str, upload: UploadedFile) -> str:
    """Save to storage; a failed write (disk full, I/O error) deletes the partial file and
    answers ``storage_full`` / ``storage_unavailable`` instead of leaving an orphan and a 500."""
    existed = default_storage.exists(path)
    try:
        return storage.save(path, upload)
    except Exception as exc:
        if not existed:
            try:
                if default_storage.exists(path):
                    default_storage.delete(path)
            except Exception:  # noqa: BLE001 — the original error is the one to report
                logger.exception("could not delete the partial file %s", path)
        if isinstance(exc, OSError):
            logger.error("storing %s failed: %s", path, exc)
            raise storage_error(exc) from exc
        raise


def version_upload(*, actor: Actor, dataset: Dataset, upload: UploadedFile | None, changelog: str = "",
                   lineage: dict[str, Any] | None = None) -> DatasetVersion:
    """Store an uploaded file as the dataset's next immutable version and queue its check.

    The file is written to storage before the row exists and removed again if the row
    cannot be written, so a failure leaves neither a row nor a file behind. ``lineage``
    (``derived_from``, ``steps``, ``notes``: services.lineage) is checked before anything is
    stored and recorded with the version, or the upload is refused.
    """
    _require_seller(actor, dataset)
    from exchange.services.lineage import lineage_plan, lineage_record

    plan = lineage_plan(actor=actor, version=None, **lineage) if lineage and lineage.get("derived_from") else None
    if upload is None:
        raise InvalidInput("Attach a data file.", fields={"file": ["No file was uploaded."]})
    name = os.path.basename(upload.name or "")
    if upload.size is not None and upload.size > settings.MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            f"The file is {upload.size} bytes; the limit is {settings.MAX_UPLOAD_BYTES} bytes.",
            fields={"file": [f"Larger than the {settings.MAX_UPLOAD_BYTES}-byte limit."]},
        )
    if not upload.size:
        raise InvalidInput("The file is empty.", fields={"file": [f"{name} is empty (0 bytes)."]})
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    from workers.quality import FORMATS, detect_format, refusal_message

    fmt = detect_format(head)
    if fmt not in FORMATS:
        msg = refusal_message(head)
        raise InvalidInput(f"{name}: {msg}", code="unsupported_file", fields={"file": [msg]})
    ext = os.path.splitext(name)[1].lower()
    if ext not in EXTENSIONS[fmt]:
        msg = f"{name} has the extension {ext or '(none)'} but its content is {DatasetVersion.Format(fmt).label}."
        raise InvalidInput(msg, code="extension_mismatch", fields={"file": [msg]})
    sha256 = _sha256_of(upload)
    existing = dataset.versions.filter(sha256=sha256).first()
    if existing:
        raise Conflict(f"This file is identical to version {existing.number} (same SHA-256); nothing to upload.",
                       code="duplicate_version")

    version = DatasetVersion(
        id=uuid.uuid4(), dataset=dataset, number=0, original_filename=name[:255], format=fmt,
        byte_size=upload.size, sha256=sha256, changelog=(changelog or "").strip(), uploaded_by=actor.user,
    )
    version.number = (dataset.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    stored_name = _store(version_upload_path(version, name), upload)
    try:
        with transaction.atomic():
            Dataset.objects.select_for_update().get(pk=dataset.pk)  # serialise version numbering
            version.number = (dataset.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            version.file.name = stored_name
            version.save(force_insert=True)
            audit_record(actor=actor, action="version.uploaded", obj=version, details={
                "dataset": str(dataset.pk), "number": version.number, "sha256": sha256,
                "bytes": version.byte_size, "format": fmt, "filename": name,
            })
            if plan is not None:
                lineage_record(actor=actor, version=version, plan=plan)
            enqueue_on_commit(QUALITY_CHECK_TASK, str(version.pk))
    except BaseException:
        storage.delete(stored_name)
        raise
    return version


def listing_create(*, actor: Actor, dataset: Dataset, version: DatasetVersion, title: str = "", summary: str = "") -> Listing:
    _require_seller(actor, dataset)
    if version.dataset_id != dataset.pk:
        raise InvalidInput("The version does not belong to this dataset.", fields={"version": ["Not a version of this dataset."]})
    with transaction.atomic():
        listing = Listing.objects.create(dataset=dataset, version=version, title=one_line(title or dataset.title, max_length=200),
                                         summary=(summary or "").strip())
        audit_record(actor=actor, action="listing.created", obj=listing, details={"dataset": str(dataset.pk), "version": version.number})
        listings_refresh_flat([listing.pk])
        listing.refresh_from_db()
    return listing


def listing_submit(*, actor: Actor, listing: Listing) -> Listing:
    """Send a draft (or rejected) listing to staff review. Needs a verified firm, an
    active offer and a version whose quality gates passed."""
    _require_seller(actor, listing.dataset)
    with transaction.atomic():
        listing = Listing.objects.select_for_update().select_related("version", "dataset__owner").get(pk=listing.pk)
        if listing.status not in (Listing.Status.DRAFT, Listing.Status.REJECTED):
            raise Conflict(f"Only a draft or rejected listing can be submitted; this one is {listing.get_status_display().lower()}.")
        if not listing.dataset.owner.is_verified:
            raise Forbidden("Your firm is not verified yet; only verified firms may publish listings.", code="firm_not_verified")
        if not listing.offers.filter(is_active=True).exists():
            raise InvalidInput("Add at least one offer before submitting.", fields={"offers": ["No active offer."]})
        version = listing.version
        if version.status != DatasetVersion.Status.PASSED:
            report = quality_sel.version_report(version)
            failures = report.failures if report is not None else []
            if version.status == DatasetVersion.Status.FAILED:
                detail = "; ".join(failures) or version.check_error or "the quality gates failed"
                msg = f"Version {version.number} failed its quality checks: {detail}."
            else:
                msg = f"Version {version.number} is still being checked ({version.get_status_display().lower()}); submit once it has passed."
            raise Conflict(msg, code="quality_gates", fields={"version": failures or [msg]})
        old = listing.status
        listing.status = Listing.Status.IN_REVIEW
        listing.submitted_at = timezone.now()
        listing.save(update_fields=["status", "submitted_at", "updated_at"])
        audit_record(actor=actor, action="listing.submitted", obj=listing, details={"from": old, "to": listing.status})
        listings_refresh_flat([listing.pk])
    return listing


def listing_review(*, actor: Actor, listing: Listing, approve: bool, note: str = "") -> Listing:
    """Staff publish or reject a listing in review (a reason is required to reject)."""
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff review listings.")
    if not approve and not (note or "").strip():
        raise InvalidInput("A reason is required to reject a listing.", fields={"note": ["Give a reason."]})
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if listing.status != Listing.Status.IN_REVIEW:
            raise Conflict(f"Only a listing in review can be reviewed; this one is {listing.get_status_display().lower()}.")
        now = timezone.now()
        listing.status = Listing.Status.PUBLISHED if approve else Listing.Status.REJECTED
        listing.review_note = (note or "").strip()
        listing.reviewed_at = now
        if approve:
            listing.published_at = now
            # the first entry of the listing's revision history
            ListingRevision.objects.get_or_create(listing=listing, version_id=listing.version_id, defaults={
                "status": ListingRevision.Status.LIVE, "live_at": now})
        listing.save(update_fields=["status", "review_note", "reviewed_at", "published_at", "updated_at"])
        emit("listing.reviewed", listing.dataset.owner, {"listing": str(listing.pk), "status": listing.status})
        notify_listing_reviewed(listing)
        audit_record(actor=actor, action="listing.published" if approve else "listing.rejected", obj=listing,
                     organization=listing.dataset.owner, details={"from": "in_review", "to": listing.status, "note": listing.review_note})
        listings_refresh_flat([listing.pk])
    return listing


_STAFF_TRANSITIONS = {"suspend": ({Listing.Status.PUBLISHED}, Listing.Status.SUSPENDED),
                      "reinstate": ({Listing.Status.SUSPENDED}, Listing.Status.PUBLISHED)}


def listing_moderate(*, actor: Actor, listing: Listing, action: str, note: str) -> Listing:
    """Staff suspend a published listing or reinstate a suspended one, with a reason."""
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff moderate listings.")
    if action not in _STAFF_TRANSITIONS:
        raise InvalidInput(f"Unknown action {action!r}.")
    if not (note or "").strip():
        raise InvalidInput("A reason is required.", fields={"note": ["Give a reason."]})
    allowed, target = _STAFF_TRANSITIONS[action]
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if listing.status not in allowed:
            raise Conflict(f"Cannot {action} a listing that is {listing.get_status_display().lower()}.")
        old, listing.status, listing.review_note = listing.status, target, note.strip()
        listing.save(update_fields=["status", "review_note", "updated_at"])
        audit_record(actor=actor, action=f"listing.{target}", obj=listing, organization=listing.dataset.owner,
                     details={"from": old, "to": target, "note": listing.review_note})
        listings_refresh_flat([listing.pk])
    return listing


def listing_retire(*, actor: Actor, listing: Listing) -> Listing:
    """The seller withdraws a listing for good. Existing contracts are unaffected."""
    _require_seller(actor, listing.dataset)
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if listing.status == Listing.Status.RETIRED:
            raise Conflict("The listing is already retired.")
        old, listing.status = listing.status, Listing.Status.RETIRED
        listing.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="listing.retired", obj=listing, details={"from": old, "to": listing.status})
        listings_refresh_flat([listing.pk])
    return listing
