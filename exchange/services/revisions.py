"""Revisions: a seller publishes a newer passed version of a dataset to its listing.

A revision that changes the schema (fields added, removed or retyped, as the quality checks
saw them) or the personal data found goes to staff review first; any other goes live at
once. Either way a worker computes the label-aware diff against the version it replaces
(``revision_diff_compute``). Contracts keep the version they bought.
"""

from __future__ import annotations

import csv
import logging
from contextlib import ExitStack

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange import storage
from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import DatasetVersion, Listing, ListingRevision
from exchange.selectors.quality import version_report, version_rows_before_data
from exchange.services.audit import audit_record
from exchange.services.catalog_flat import listings_refresh_flat
from exchange.services.dispatch import enqueue_on_commit
from exchange.services.webhooks import emit
from exchange.validators import one_line
from workers.quality.report import Report

logger = logging.getLogger(__name__)

DIFF_TASK = "shujiao.diff.compute_revision"
PII_KINDS = ("mobile", "email", "resident_id", "bank_card")


def _fields_of(report: Report) -> list:
    from workers.diff import Field

    return [Field(c.name, c.type or "string") for c in report.columns]


def _pii_kinds(report: Report) -> set[str]:
    return {k for k in PII_KINDS if getattr(report.pii, k)}


def review_reasons(old: DatasetVersion, new: DatasetVersion) -> list[str]:
    """Why staff must see this version before it replaces ``old`` (empty: it may go live at once)."""
    from workers.diff import diff_fields

    old_report, new_report = version_report(old), version_report(new)
    reasons = []
    changes = diff_fields(_fields_of(old_report), _fields_of(new_report))
    if changes:
        reasons.append("schema changed: " + ", ".join(
            f"{c.name} {c.change}" + (f" ({c.old_type} → {c.new_type})" if c.change == "retyped" else "")
            for c in changes))
    added = sorted(_pii_kinds(new_report) - _pii_kinds(old_report))
    if added:
        reasons.append("personal data found that the listed version did not have: " + ", ".join(added))
    return reasons


def listing_publish_version(*, actor: Actor, listing: Listing, version: DatasetVersion,
                            changelog: str = "") -> ListingRevision:
    """Publish ``version`` to the seller's published listing (live at once, or to staff review)."""
    if actor.organization is None or listing.dataset.owner_id != actor.organization.pk:
        raise NotFound("No such listing.")
    if not actor.has_scope("sell"):
        raise Forbidden("This API key lacks the 'sell' scope.", code="missing_scope")
    changelog = one_line((changelog or "").strip(), max_length=2000) if changelog else ""
    if not changelog:
        raise InvalidInput("Say what changed in this version.", fields={"changelog": ["Describe the change."]})
    with transaction.atomic():
        listing = Listing.objects.select_for_update().select_related("version", "dataset").get(pk=listing.pk)
        if listing.status != Listing.Status.PUBLISHED:
            raise Conflict(f"Only a published listing takes new versions; this one is "
                           f"{listing.get_status_display().lower()}.", code="listing_not_published")
        if version.dataset_id != listing.dataset_id:
            raise InvalidInput("The version does not belong to this listing's dataset.",
                               fields={"version": ["Not a version of this dataset."]})
        if version.status != DatasetVersion.Status.PASSED:
            raise Conflict(f"Version {version.number} has not passed its quality checks "
                           f"({version.get_status_display().lower()}).", code="quality_gates",
                           fields={"version": ["Only a passed version can be published."]})
        current = listing.version
        if version.number <= current.number:
            raise Conflict(f"Version {version.number} is not newer than the listed version {current.number}.",
                           code="not_newer", fields={"version": [f"Choose a version after {current.number}."]})
        if listing.revisions.filter(status=ListingRevision.Status.IN_REVIEW).exists():
            raise Conflict("Another version of this listing is awaiting staff review.", code="revision_in_review")
        reasons = review_reasons(current, version)
        now = timezone.now()
        try:
            with transaction.atomic():
                revision = ListingRevision.objects.create(
                    listing=listing, version=version, previous_version=current, changelog=changelog,
                    status=ListingRevision.Status.IN_REVIEW if reasons else ListingRevision.Status.LIVE,
                    review_reasons=reasons, live_at=None if reasons else now,
                    diff_status=ListingRevision.DiffStatus.PENDING)
        except IntegrityError:
            raise Conflict(f"Version {version.number} was already published to this listing.",
                           code="revision_exists") from None
        audit_record(actor=actor, action="listing.revision_created", obj=revision,
                     organization=listing.dataset.owner, details={
                         "listing": str(listing.pk), "version": version.number, "previous": current.number,
                         "status": revision.status, "review_reasons": reasons})
        if not reasons:
            _go_live(actor=actor, listing=listing, revision=revision)
        enqueue_on_commit(DIFF_TASK, str(revision.pk))
    return revision


def _go_live(*, actor: Actor, listing: Listing, revision: ListingRevision) -> None:
    old = listing.version.number
    listing.version = revision.version
    listing.save(update_fields=["version", "updated_at"])
    audit_record(actor=actor, action="listing.version_changed", obj=listing, organization=listing.dataset.owner,
                 details={"from": old, "to": revision.version.number, "revision": str(revision.pk)})
    listings_refresh_flat([listing.pk])
    # every active subscriber gets the new version as an update delivery (built after commit)
    from exchange.services.subscriptions import subscription_updates_create

    subscription_updates_create(listing=listing, revision=revision, actor=actor)


def listing_revision_review(*, actor: Actor, revision: ListingRevision, approve: bool,
                            note: str = "") -> ListingRevision:
    """Staff let a revision in review go live, or reject it with a reason."""
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff review revisions.")
    if not approve and not (note or "").strip():
        raise InvalidInput("A reason is required to reject a revision.", fields={"note": ["Give a reason."]})
    with transaction.atomic():
        revision = ListingRevision.objects.select_for_update().select_related("version").get(pk=revision.pk)
        if revision.status != ListingRevision.Status.IN_REVIEW:
            raise Conflict(f"Only a revision awaiting review can be reviewed; this one is "
                           f"{revision.get_status_display().lower()}.")
        listing = Listing.objects.select_for_update().select_related("version", "dataset__owner").get(
            pk=revision.listing_id)
        now = timezone.now()
        revision.status = ListingRevision.Status.LIVE if approve else ListingRevision.Status.REJECTED
        revision.review_note, revision.decided_at = (note or "").strip(), now
        if approve:
            revision.live_at = now
        revision.save(update_fields=["status", "review_note", "decided_at", "live_at"])
        audit_record(actor=actor, action="listing.revision_approved" if approve else "listing.revision_rejected",
                     obj=revision, organization=listing.dataset.owner,
                     details={"from": "in_review", "to": revision.status, "note": revision.review_note})
        if approve and revision.version.number > listing.version.number:
            _go_live(actor=actor, listing=listing, revision=revision)
        emit("listing.reviewed", listing.dataset.owner, {"listing": str(listing.pk), "revision": str(revision.pk),
                                                         "status": revision.status})
    return revision


def _read_as(version: DatasetVersion, report: Report):
    """How the diff reads a version's file: as its quality check did (encoding, delimiter, the rows before the
    data — metadata lines and a header, or none for a headerless file)."""
    from workers.diff.sources import ReadAs

    schema = version.dataset.schema or {}
    skip = version_rows_before_data(version)
    return ReadAs(format=report.format or version.format, columns=tuple(c.name for c in report.columns),
                  encoding=report.encoding or "utf-8", delimiter=report.delimiter or ",",
                  header=skip != 0, skip_rows=skip,
                  missing_values=tuple(schema.get("missingValues", [""])))


def revision_diff_compute(*, revision_id: str) -> str:
    """Compute and store the diff of a revision against the version it replaced (idempotent)."""
    from workers.diff import (
        ColumnFigures,
        VersionDiff,
        buckets_for,
        diff_columns,
        diff_fields,
        diff_rows,
    )
    from workers.diff.sources import table_from_file

    revision = (ListingRevision.objects.select_related("version__dataset", "previous_version", "version__quality_report",
                                                       "previous_version__quality_report")
                .filter(pk=revision_id).first())
    if revision is None or revision.diff_status != ListingRevision.DiffStatus.PENDING:
        return "nothing to do"
    old, new = revision.previous_version, revision.version
    o, n = version_report(old), version_report(new)
    schema = new.dataset.schema or {}
    key = schema.get("primaryKey") or []
    key = [key] if isinstance(key, str) else list(key)
    label = schema.get("labelField")
    try:
        with ExitStack() as stack:
            old_path = stack.enter_context(storage.local_copy(old.file.name, tmp_dir=settings.QUALITY_TMP_DIR))
            new_path = stack.enter_context(storage.local_copy(new.file.name, tmp_dir=settings.QUALITY_TMP_DIR))
            rows = diff_rows(table_from_file(old_path, _read_as(old, o)), table_from_file(new_path, _read_as(new, n)),
                             key=key, label=label, buckets=buckets_for(old.byte_size + new.byte_size),
                             workdir=settings.QUALITY_TMP_DIR)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:  # a file the diff cannot read: say so
        ListingRevision.objects.filter(pk=revision.pk, diff_status=ListingRevision.DiffStatus.PENDING).update(
            diff_status=ListingRevision.DiffStatus.FAILED, diff_error=str(exc)[:500])
        logger.warning("diff of revision %s failed: %s", revision.pk, exc)
        return "failed"
    def figures(r: Report):
        return [ColumnFigures(c.name, int(c.null_count or 0), int(c.invalid_count or 0)) for c in r.columns]

    diff = VersionDiff(rows=rows, fields=diff_fields(_fields_of(o), _fields_of(n)),
                       columns=diff_columns(figures(o), figures(n)),
                       old_duplicate_rows=o.duplicate_rows, new_duplicate_rows=n.duplicate_rows)
    stored = ListingRevision.objects.filter(pk=revision.pk, diff_status=ListingRevision.DiffStatus.PENDING).update(
        diff_status=ListingRevision.DiffStatus.READY, diff=diff.to_dict(), diff_error="")
    return "stored" if stored else "already stored"


def revision_diff(revision: ListingRevision):
    """The stored diff as a typed object (None until the worker has computed it)."""
    from workers.diff import VersionDiff

    return VersionDiff.from_dict(revision.diff) if revision.diff else None


def revision_diff_sweep() -> int:
    """Re-enqueue diffs pending longer than ``DIFF_REQUEUE_AFTER_SECONDS``; returns how many."""
    from datetime import timedelta

    from exchange.services.dispatch import send_task_now

    cutoff = timezone.now() - timedelta(seconds=settings.DIFF_REQUEUE_AFTER_SECONDS)
    ids = list(ListingRevision.objects.filter(diff_status=ListingRevision.DiffStatus.PENDING, created_at__lt=cutoff)
               .values_list("pk", flat=True)[:100])
    for pk in ids:
        send_task_now(DIFF_TASK, str(pk))
    return len(ids)
