"""Running a version's quality check: claim, profile, store exactly one report.

The claim is a conditional UPDATE through the shared helper ``services.claims`` (only an
``uploaded`` version, or a ``checking`` one whose heartbeat went stale, can be claimed), so
two deliveries of the same task, or two workers, never check one version at the same time,
and a check whose worker died is taken over. The result is stored only by the attempt holding the claim.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exchange import storage
from exchange.actor import Actor
from exchange.models import DatasetVersion, QualityReport
from exchange.selectors.quality import dataset_dialect, redacted_for_storage, report_typed
from exchange.services import claims
from exchange.services.audit import audit_record
from exchange.services.catalog_flat import listings_of_version_refresh
from exchange.services.dispatch import send_task_now
from exchange.services.notifications import notify_version_checked
from exchange.services.webhooks import emit
from workers.quality.findings import scrub

logger = logging.getLogger(__name__)
QUALITY_CHECK_TASK = "shujiao.quality.check_version"
Claim = claims.Claim
ClaimBusy = claims.ClaimBusy
CHECK_CLAIM = claims.ClaimSpec(
    model=DatasetVersion, waiting=Q(status=DatasetVersion.Status.UPLOADED),
    running=Q(status=DatasetVersion.Status.CHECKING), token_field="check_token",
    heartbeat_field="check_heartbeat_at", attempts_field="check_attempts", stale_setting="QUALITY_STALE_SECONDS",
    on_claim={"status": DatasetVersion.Status.CHECKING}, queued_at_field="created_at",
)


def quality_check_claim(*, version_id: str) -> Claim | None:
    """Claim a version for checking. None when there is nothing to do (already done).

    Raises ClaimBusy when a live attempt holds it.
    """
    claim = claims.claim(CHECK_CLAIM, version_id, check_started_at=timezone.now(), check_rows_seen=0,
                         check_bytes_seen=0, check_percent=0)
    if claim is not None and claim.attempts > settings.QUALITY_MAX_ATTEMPTS:
        quality_check_fail(claim=claim, message=(
            f"The check did not finish after {settings.QUALITY_MAX_ATTEMPTS} attempts "
            "(the worker was stopped or ran out of time each time)."))
        return None
    return claim


class ProgressRecorder:
    """Writes progress (and the heartbeat) to the version row, at most every heartbeat interval."""

    def __init__(self, claim: Claim, total_bytes: int):
        self.claim, self.total_bytes, self._last = claim, total_bytes, 0.0

    def __call__(self, rows_seen: int, bytes_seen: int, percent: float | None) -> None:
        now = time.monotonic()
        if now - self._last < min(1.0, settings.QUALITY_HEARTBEAT_SECONDS):
            return
        self._last = now
        if percent is None and self.total_bytes:
            percent = 100.0 * bytes_seen / self.total_bytes
        DatasetVersion.objects.filter(pk=self.claim.pk, check_token=self.claim.token).update(
            check_rows_seen=rows_seen, check_bytes_seen=bytes_seen, check_percent=min(100.0, percent or 0.0),
            check_heartbeat_at=timezone.now(),
        )


def quality_check_run(*, claim: Claim) -> QualityReport | None:
    """Profile the stored file (streamed from storage) and store the report."""
    from workers.quality import (
        QualityOptions,
        profile,
        refused_schema_report,
        validate_table_schema,
    )
    from workers.quality.dialect import validate_dialect

    version = DatasetVersion.objects.select_related("dataset").get(pk=claim.pk)
    schema = dict(version.dataset.schema or {})
    schema["personalData"] = version.dataset.contains_personal_data
    problems = validate_table_schema(schema) if version.dataset.schema else []
    if problems:  # stored before a property was refused: fail the check, naming it
        return quality_check_store(claim=claim, report=refused_schema_report(problems))
    problems = validate_dialect(version.dataset.dialect or {})
    if problems:  # stored bypassing the service (admin shell, old row): fail naming it
        return quality_check_store(claim=claim, report=refused_schema_report(
            problems, what="the dataset's CSV dialect"))
    options = QualityOptions(
        memory_limit_bytes=settings.QUALITY_MEMORY_LIMIT_BYTES,
        max_malformed_share=settings.QUALITY_MAX_MALFORMED_SHARE,
        dialect=dataset_dialect(version.dataset),
    )
    # A local, seekable copy in this worker's own temp dir (S3), or the stored file itself (local).
    with claims.heartbeat(CHECK_CLAIM, claim, settings.QUALITY_HEARTBEAT_SECONDS), \
            storage.local_copy(version.file.name, tmp_dir=settings.QUALITY_TMP_DIR) as path, open(path, "rb") as stream:
        report = profile(stream, schema, options=options, progress=ProgressRecorder(claim, version.byte_size),
                         total_bytes=version.byte_size, filename=version.original_filename)
    return quality_check_store(claim=claim, report=report)


def quality_check_store(*, claim: Claim, report: dict) -> QualityReport | None:
    """Store the one report and the outcome, if this attempt still holds the claim."""
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().get(pk=claim.pk)
        if version.status != DatasetVersion.Status.CHECKING or version.check_token != claim.token:
            logger.info("version %s: claim %s lost; result discarded", claim.pk, claim.token)
            return None
        # no raw sample cells, no control characters (PostgreSQL refuses NUL in jsonb and text)
        data = scrub(redacted_for_storage(report))
        typed = report_typed(data)
        passed = typed.passed
        stored, _created = QualityReport.objects.update_or_create(
            version=version,
            defaults={"report": data, "score": int(typed.score or 0), "grade": typed.grade or "E",
                      "passed": passed},
        )
        version.status = DatasetVersion.Status.PASSED if passed else DatasetVersion.Status.FAILED
        version.row_count = typed.rows
        version.check_percent = 100.0
        version.check_rows_seen = typed.rows or 0
        version.check_bytes_seen = version.byte_size
        version.check_error = "" if passed else "; ".join(typed.failures)[:5000]
        version.check_token = ""
        version.save()
        emit("version.checked", version.dataset.owner, {"version": str(version.pk), "dataset": str(version.dataset_id),
                                                        "status": version.status, "score": stored.score,
                                                        "grade": stored.grade})
        notify_version_checked(version)
        audit_record(actor=Actor.system("quality-worker"), action="version.checked", obj=version,
                     organization=version.dataset.owner, details={
                         "status": version.status, "score": stored.score, "grade": stored.grade,
                         "failures": typed.failures, "rows": version.row_count})
        listings_of_version_refresh(version.pk)
    return stored


def quality_check_fail(*, claim: Claim, message: str) -> None:
    """End a check as failed with a message (time limit, unreadable storage, attempts used up)."""
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().select_related("dataset__owner").get(pk=claim.pk)
        if version.status != DatasetVersion.Status.CHECKING or version.check_token != claim.token:
            return
        version.status = DatasetVersion.Status.FAILED
        version.check_error = message
        version.check_token = ""
        version.save(update_fields=["status", "check_error", "check_token"])
        emit("version.checked", version.dataset.owner, {"version": str(version.pk), "dataset": str(version.dataset_id),
                                                        "status": version.status, "score": None, "grade": None})
        notify_version_checked(version)
        audit_record(actor=Actor.system("quality-worker"), action="version.check_failed", obj=version,
                     organization=version.dataset.owner, details={"message": message})


def quality_sweep() -> int:
    """Re-enqueue checks that were never picked up or whose worker died. Returns how many."""
    due = claims.due(CHECK_CLAIM, requeue_after_seconds=settings.QUALITY_REQUEUE_AFTER_SECONDS)
    return sum(send_task_now(QUALITY_CHECK_TASK, str(pk)) for pk in due)
