"""The quality re-check of a ``quality_below_guarantee`` dispute (quality queue).

A worker claims the dispute (services.claims: a conditional UPDATE on the dispute row, with a
heartbeat thread), copies the **stored delivery package** — the bytes the buyer got — to its
own temporary disk, profiles the data file inside it with the dataset's schema and checks the
report against the contract's frozen guarantee (workers.quality.guarantee). The result is
stored only by the attempt that still holds the claim, under the contract's and the dispute's
locks: a failed guarantee refunds the buyer in full, revokes the downloads and flags the
listing; a passed one hands the dispute to staff with the re-check beside it. A worker killed
midway leaves a stale claim that the redelivered task (or the sweeper) takes over, so the
dispute is re-checked to completion once and refunded at most once.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exchange import storage
from exchange.actor import Actor
from exchange.models import Contract, Dispute
from exchange.selectors.quality import redacted_for_storage, report_typed
from exchange.services import claims
from exchange.services.audit import audit_record
from exchange.services.dispatch import send_task_now
from exchange.services.disputes import (
    RECHECK_TASK,
    Outcome,
    decide_locked,
    dispute_data,
    listing_flag_locked,
)
from exchange.services.notifications import notify_contract
from exchange.services.webhooks import emit
from workers.quality.findings import scrub

logger = logging.getLogger(__name__)
WORKER = "quality-recheck"
RECHECK_CLAIM = claims.ClaimSpec(
    model=Dispute,
    waiting=Q(status=Dispute.Status.RECHECKING, recheck_token=""),
    running=Q(status=Dispute.Status.RECHECKING) & ~Q(recheck_token=""),
    token_field="recheck_token", heartbeat_field="recheck_heartbeat_at", attempts_field="recheck_attempts",
    stale_setting="QUALITY_STALE_SECONDS", queued_at_field="recheck_queued_at",
)


def _worker() -> Actor:
    return Actor.system(WORKER)


def recheck_claim(*, dispute_id: str) -> claims.Claim | None:
    """Claim a dispute's re-check; None when done. Past DISPUTE_RECHECK_MAX_ATTEMPTS the
    dispute goes to staff with the error instead. Raises claims.ClaimBusy while another attempt lives."""
    claim = claims.claim(RECHECK_CLAIM, dispute_id)
    if claim is not None and claim.attempts > settings.DISPUTE_RECHECK_MAX_ATTEMPTS:
        recheck_fail(claim=claim, message=f"The re-check did not finish after {settings.DISPUTE_RECHECK_MAX_ATTEMPTS} "
                                          "attempts; staff decide without it.")
        return None
    return claim


def recheck_run(*, claim: claims.Claim) -> str:
    """Profile the delivered data file and store the verdict. Returns what happened."""
    from workers.quality import QualityOptions, profile
    from workers.quality.guarantee import evaluate

    dispute = Dispute.objects.select_related("contract__dataset_version__dataset").get(pk=claim.pk)
    contract = dispute.contract
    delivery = getattr(contract, "delivery", None)
    if delivery is None or not delivery.package_name or not delivery.data_path:
        recheck_fail(claim=claim, message="The delivered package is no longer stored; staff decide without a re-check.")
        return "no package"
    dataset = contract.dataset_version.dataset
    schema = dict(dataset.schema or {})
    schema["personalData"] = dataset.contains_personal_data
    options = QualityOptions(memory_limit_bytes=settings.QUALITY_MEMORY_LIMIT_BYTES,
                             max_malformed_share=settings.QUALITY_MAX_MALFORMED_SHARE)
    try:
        with claims.heartbeat(RECHECK_CLAIM, claim, settings.QUALITY_HEARTBEAT_SECONDS), \
                storage.local_copy(delivery.package_name, tmp_dir=settings.QUALITY_TMP_DIR) as package, \
                zipfile.ZipFile(package) as archive, \
                tempfile.TemporaryFile(dir=settings.QUALITY_TMP_DIR, prefix="shujiao-recheck-") as data:
            with archive.open(delivery.data_path) as member:
                shutil.copyfileobj(member, data, 1024 * 1024)  # the profiler needs a seekable file
            data.seek(0)
            report = profile(data, schema, options=options, total_bytes=archive.getinfo(delivery.data_path).file_size,
                             filename=delivery.data_path.rsplit("/", 1)[-1])
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        recheck_fail(claim=claim, message=f"The delivered package could not be read: {exc}")
        return "unreadable"
    verdict = evaluate(contract.guarantee or {}, report)
    return recheck_store(claim=claim, report=report, verdict=verdict.as_dict())


def recheck_store(*, claim: claims.Claim, report: dict, verdict: dict) -> str:
    """Store the re-check if this attempt still holds the claim, and act on it."""
    contract_id = Dispute.objects.filter(pk=claim.pk).values_list("contract_id", flat=True).get()
    actor = _worker()
    with transaction.atomic():
        contract = (Contract.objects.select_for_update(of=("self",)).select_related("buyer", "seller", "listing")
                    .get(pk=contract_id))
        dispute = Dispute.objects.select_for_update().get(pk=claim.pk)
        if not claims.holds(RECHECK_CLAIM, dispute, claim):
            logger.info("dispute %s: re-check claim %s lost; result discarded", claim.pk, claim.token)
            return "claim lost"
        passed = bool(verdict["passed"])
        dispute.recheck_report = scrub(redacted_for_storage(report))
        dispute.recheck_result, dispute.recheck_passed = verdict, passed
        dispute.recheck_finished_at, dispute.recheck_token, dispute.recheck_error = timezone.now(), "", ""
        dispute.status = Dispute.Status.OPEN
        dispute.save(update_fields=["recheck_report", "recheck_result", "recheck_passed", "recheck_finished_at",
                                    "recheck_token", "recheck_error", "status"])
        failures = [c["expected"] + f" (delivered: {c['actual']})" for c in verdict["checks"] if not c["passed"]]
        typed = report_typed(report)
        emit("dispute.rechecked", (contract.seller, contract.buyer), dispute_data(dispute, passed=passed))
        audit_record(actor=actor, action="dispute.rechecked", obj=dispute, organization=contract.buyer, details={
            "passed": passed, "failures": failures, "score": typed.score, "rows": typed.rows,
            "attempts": claim.attempts})
        notify_contract(contract, "dispute.rechecked",
                        body="The guarantee held; staff will decide." if passed else "; ".join(failures)[:500])
        if passed:
            return "passed"
        reason = "The delivered data fails the quality guarantee: " + "; ".join(failures)
        decide_locked(contract, dispute, actor=actor, outcome=Outcome.REFUND, reason=reason[:2000])
        listing_flag_locked(contract.listing_id, actor=actor, reason=f"Dispute {dispute.pk}: {reason}")
    return "refunded"


def recheck_fail(*, claim: claims.Claim, message: str) -> None:
    """The re-check could not run: the dispute goes to staff with the error."""
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().select_related("contract__buyer").get(pk=claim.pk)
        if not claims.holds(RECHECK_CLAIM, dispute, claim):
            return
        dispute.status, dispute.recheck_token, dispute.recheck_error = Dispute.Status.OPEN, "", message[:5000]
        dispute.recheck_finished_at = timezone.now()
        dispute.save(update_fields=["status", "recheck_token", "recheck_error", "recheck_finished_at"])
        audit_record(actor=_worker(), action="dispute.recheck_failed", obj=dispute,
                     organization=dispute.contract.buyer, details={"message": message})


def recheck_sweep() -> int:
    """Re-enqueue re-checks never picked up (broker down) or whose worker died."""
    due = claims.due(RECHECK_CLAIM, requeue_after_seconds=settings.QUALITY_REQUEUE_AFTER_SECONDS)
    return sum(send_task_now(RECHECK_TASK, str(pk)) for pk in due)
