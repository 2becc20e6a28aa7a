"""Signed deliveries: create on payment, claim, build, store, settle; fail and refund;
revoke, expire, sweep. Download links and downloads: services/downloads.py.

Exactly-once effects rest on three things:

* the claim is a conditional UPDATE through the shared helper ``services.claims`` (only a
  ``queued`` delivery, or a ``building`` one whose heartbeat went stale, can be claimed) that
  stores a fresh ``claim_token``;
* a build writes its package under a name of its own (``deliveries/<id>/<token>.zip``)
  and stores the result only while it still holds the claim (row lock + token check);
* the contract's acceptance window opens (or, with no window, settlement happens) in the
  same transaction that marks the delivery ``ready``, and the ledger allows one settlement
  per contract. Money moves only through ``services.escrow`` (this module never imports
  ``services.trading``).

So a task delivered twice, a second worker racing the first, or a worker killed at any
point yields one package and one settlement. A build streams the source from storage into
a local temporary file and uploads that through ``exchange.storage``: no shared disk.

Lock order (as in trading): delivery row → contract row → ledger accounts → audit chain.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exchange import storage
from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import Contract, Delivery
from exchange.services import claims, escrow
from exchange.services.audit import audit_record
from exchange.services.delivery_manifest import (
    DiffPending,
    ProgressHeartbeat,
    manifest_fields,
    update_package_parts,
)
from exchange.services.delivery_storage import (
    delete_after_commit,
    delete_other_packages,
    delete_packages_after_commit,
    delete_partial,
)
from exchange.services.delivery_table import TableCopy, parquet_copy_build
from exchange.services.dispatch import enqueue_on_commit, send_task_now
from exchange.services.notifications import notify_contract
from exchange.services.sharing import tokens_revoke
from exchange.services.webhooks import emit

logger = logging.getLogger(__name__)
DELIVERY_BUILD_TASK = "shujiao.delivery.build"
WORKER = "delivery-worker"


Claim = claims.Claim
ClaimBusy = claims.ClaimBusy
BUILD_CLAIM = claims.ClaimSpec(
    model=Delivery, waiting=Q(status=Delivery.Status.QUEUED), running=Q(status=Delivery.Status.BUILDING),
    token_field="claim_token", heartbeat_field="heartbeat_at", attempts_field="attempts",
    stale_setting="DELIVERY_STALE_SECONDS", on_claim={"status": Delivery.Status.BUILDING}, queued_at_field="queued_at",
)


class TransientBuildError(Exception):
    """A build failed for a reason that may pass (storage, no key); it is retried."""


def _worker() -> Actor:
    return Actor.system(WORKER)


# --- Creation ----------------------------------------------------------------------
def delivery_create(*, contract: Contract) -> Delivery:
    """Make the contract's delivery and enqueue its build once the payment commits.

    Runs inside the payment's transaction (``trading.on_contract_paid``). Idempotent: a
    contract has at most one initial delivery. A subscription whose listing moved on since
    signing also gets the current version (``subscriptions.subscription_catch_up``).
    """
    from exchange.services.subscriptions import subscription_catch_up

    delivery = Delivery.objects.filter(contract=contract, initial=True).first()
    if delivery is not None:
        return delivery
    version = contract.dataset_version
    delivery = Delivery.objects.create(contract=contract, dataset_version=version, queued_at=timezone.now(),
                                       bytes_total=version.byte_size)
    audit_record(actor=_worker(), action="delivery.queued", obj=delivery, organization=contract.buyer,
                 details={"contract": str(contract.pk), "dataset_version": str(version.pk)})
    enqueue_on_commit(DELIVERY_BUILD_TASK, str(delivery.pk))
    subscription_catch_up(contract)
    return delivery


# --- Claim and build -----------------------------------------------------------------
def delivery_claim(*, delivery_id: str) -> Claim | None:
    """Claim a delivery for building. None when there is nothing to do.

    Raises ClaimBusy when a live attempt holds it. A claim past ``DELIVERY_MAX_ATTEMPTS``
    ends the delivery as failed (and refunds the buyer) instead.
    """
    claim = claims.claim(BUILD_CLAIM, delivery_id, bytes_done=0)
    if claim is not None and claim.attempts > settings.DELIVERY_MAX_ATTEMPTS:
        error = Delivery.objects.filter(pk=delivery_id).values_list("error", flat=True).get()
        last = f" Last error: {error}" if error else ""
        delivery_fail(claim=claim, code="attempts_exhausted", message=(
            f"The package could not be built after {settings.DELIVERY_MAX_ATTEMPTS} attempts.{last}"))
        return None
    return claim


def delivery_build(*, claim: Claim) -> Delivery | None:
    """Build, sign and store the package for a claimed delivery, then mark it ready.

    Returns the ready delivery, or None when the claim was lost meanwhile (the package
    this attempt wrote is deleted). A source whose SHA-256 changed at rest fails the
    delivery for good (audited, buyer refunded). Raises TransientBuildError for
    failures worth retrying; the claim is released first.
    """
    from exchange.selectors.licence import licence_ends_at
    from exchange.selectors.metadata import delivery_metadata
    from exchange.services.delivery_protect import (
        build_buyer_package,
        recipients_for,
        store_package,
    )
    from exchange.services.signing import NoActiveKey, signing_key_for_signing
    from workers.delivery import SourceIntegrityError, safe_data_name
    from workers.fingerprint import TableError
    from workers.metadata import delivery_metadata_files

    delivery = (Delivery.objects.select_related("contract__buyer", "contract__seller", "contract__listing__dataset",
                                                "contract__dataset_version__dataset", "contract__offer",
                                                "dataset_version__dataset", "dataset_version__quality_report",
                                                "diff_from").get(pk=claim.pk))
    contract = delivery.contract
    version = delivery.dataset_version
    heartbeat = ProgressHeartbeat(claim)
    try:
        key, private = signing_key_for_signing()
    except NoActiveKey as exc:
        delivery_release(claim=claim, error=str(exc))
        raise TransientBuildError(str(exc)) from None
    if contract.offer.fingerprint and not settings.FINGERPRINT_SECRET:  # never deliver unmarked what was sold marked
        delivery_release(claim=claim, error="FINGERPRINT_SECRET is not set: fingerprinted copies cannot be made.")
        raise TransientBuildError("FINGERPRINT_SECRET is not set")
    issued_at = timezone.now().replace(microsecond=0)
    # every package of the contract expires with its licence (selectors.licence), issued before it or not
    ends = licence_ends_at(contract, issued_at=issued_at if delivery.initial else None)
    expires_at = max(ends or issued_at, issued_at + timedelta(seconds=1))
    data_path = "data/" + safe_data_name(version.original_filename or contract.listing.title, version.format)
    package_name = f"deliveries/{delivery.pk}/{claim.token}.zip"
    parquet_name = f"deliveries/{delivery.pk}/{claim.token}.parquet"  # the Delta Sharing copy (SPEC §10)
    recipients = recipients_for(contract.buyer)

    try:
        with claims.heartbeat(BUILD_CLAIM, claim, settings.DELIVERY_HEARTBEAT_SECONDS), \
                tempfile.TemporaryFile(dir=settings.DELIVERY_TMP_DIR, prefix="shujiao-delivery-") as tmp:
            fields = manifest_fields(delivery, issued_at=issued_at, expires_at=expires_at)
            # Croissant and datapackage.json, described from the data file's final bytes
            describe = functools.partial(delivery_metadata_files, delivery_metadata(delivery))
            if not delivery.initial:  # a subscription update carries the diff from the version the buyer had
                fields["update"], describe = update_package_parts(delivery, describe)
            build = {"out": tmp, "data_path": data_path, "license_text": contract.licence_text,
                     "private_key": private, "deflate": settings.DELIVERY_DEFLATE, "progress": heartbeat,
                     "hash_package": settings.DELIVERY_HASH_PACKAGE, "describe": describe}
            with storage.open_stream(version.file.name) as source:
                result, fingerprint = build_buyer_package(contract=contract, version=version, source=source,
                                                          fields=fields, recipients=recipients, **build)
            tmp.flush()
            tmp.seek(0)
            heartbeat.beat(result.size, force=True)
            stored_name = store_package(tmp, package_name, recipients)  # tmp: the age file only, if sealed
            if recipients:
                # Delivered only to the buyer's own age key: no plaintext copy is kept to share.
                table = TableCopy(error="This delivery is encrypted to the buyer's age key, so it is not shared "
                                        "over Delta Sharing (that would keep a readable copy on the exchange).")
            else:  # the Parquet copy is read from the package's own data file (marked, if fingerprinted)
                table = parquet_copy_build(package=tmp, data_path=data_path, version=version, name=parquet_name)
    except DiffPending as exc:
        delivery_release(claim=claim, error=f"waiting for the diff of {exc} to be computed")
        raise TransientBuildError(f"diff pending: {exc}") from None
    except SourceIntegrityError as exc:
        logger.error("delivery %s: %s", delivery.pk, exc)
        delivery_fail(claim=claim, code="source_integrity", message=(
            f"The stored dataset file changed at rest: its SHA-256 is {exc.actual}, but the version was recorded "
            f"with {exc.expected}. Nothing was delivered{_refund_note(delivery)}."),
            details={"expected_sha256": exc.expected, "actual_sha256": exc.actual})
        return None
    except TableError as exc:
        logger.error("delivery %s: fingerprint: %s", delivery.pk, exc)
        delivery_fail(claim=claim, code="fingerprint_unreadable", message=(
            f"The dataset file could not be read to fingerprint the buyer's copy: {exc}. Nothing was "
            f"delivered{_refund_note(delivery)}."))
        return None
    except OSError as exc:
        for name in (package_name, package_name + ".age", parquet_name):
            delete_partial(name)  # a full disk leaves an empty or half-written file behind
        delivery_release(claim=claim, error=f"storage error: {exc}")
        raise TransientBuildError(str(exc)) from exc
    return delivery_store(claim=claim, package_name=stored_name, result=result, data_path=data_path,
                          issued_at=issued_at, expires_at=expires_at, kid=key.kid, table=table,
                          protection={"fingerprint": fingerprint, "encrypted_to": recipients})


def _refund_note(delivery: Delivery) -> str:
    return " and the buyer was refunded" if delivery.initial else " (a subscription update: nothing is refunded)"


def delivery_store(*, claim: Claim, package_name: str, result, data_path: str, issued_at, expires_at,
                   kid: str, table: TableCopy | None = None,
                   protection: dict[str, Any] | None = None) -> Delivery | None:
    """Mark the delivery ready with its package (and Parquet copy, fingerprint record and age
    recipients) and open the contract's acceptance window (or settle it when it has none), if
    this attempt still holds the claim; otherwise discard what it stored."""
    table = table or TableCopy()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=claim.pk)
        if delivery.status != Delivery.Status.BUILDING or delivery.claim_token != claim.token:
            logger.info("delivery %s: claim %s lost; package discarded", claim.pk, claim.token)
            delete_after_commit(package_name)
            if table.name:
                delete_after_commit(table.name)
            return None
        contract = Contract.objects.select_for_update(of=("self",)).select_related("buyer", "seller").get(pk=delivery.contract_id)
        from exchange.services.subscriptions import ACTIVE_CONTRACT

        if contract.status not in ((Contract.Status.PAID,) if delivery.initial else ACTIVE_CONTRACT):
            # Refunded (or otherwise closed) while it was building: nothing may be delivered.
            delete_after_commit(package_name)
            if table.name:
                delete_after_commit(table.name)
            _end_failed(delivery, code="contract_closed", message=(
                f"The contract was {contract.get_status_display().lower()} before the package was ready."))
            return None
        now = timezone.now()
        delivery.status = Delivery.Status.READY
        delivery.claim_token = ""
        delivery.package_name = package_name
        delivery.package_size = result.package_size
        delivery.package_sha256 = result.package_sha256 or ""
        delivery.data_path = data_path
        delivery.manifest = result.manifest
        delivery.key_id = kid
        delivery.issued_at, delivery.expires_at, delivery.ready_at = issued_at, expires_at, now
        delivery.bytes_done = result.size
        delivery.fingerprint = (protection or {}).get("fingerprint")
        delivery.encrypted_to = (protection or {}).get("encrypted_to") or []
        delivery.error = ""
        delivery.parquet_name, delivery.parquet_size, delivery.parquet_sha256 = table.name, table.size, table.sha256
        delivery.parquet_rows, delivery.parquet_schema, delivery.parquet_error = (
            table.rows, table.schema_string, table.error)
        delivery.save()
        version = delivery.dataset_version
        if delivery.initial:  # only the first delivery opens the acceptance window (or settles): updates move no money
            escrow.contract_delivered_locked(contract, actor=_worker())
            notify_contract(contract, "delivery.ready")
        else:
            notify_contract(contract, "delivery.update_ready", body=f"Version {version.number} (update from version "
                                                                    f"{delivery.diff_from.number}, with the diff).")
        emit("delivery.ready", (contract.seller, contract.buyer), _webhook_data(delivery, contract))
        audit_record(actor=_worker(), action="delivery.ready", obj=delivery, organization=contract.buyer, details={
            "contract": str(contract.pk), "key_id": kid, "version": version.number, "update": not delivery.initial, "package_sha256": delivery.package_sha256,
            "package_size": delivery.package_size, "source_sha256": result.manifest["source_sha256"],
            "data_sha256": result.sha256, "attempts": delivery.attempts, "expires_at": expires_at,
            "fingerprint": (delivery.fingerprint or {}).get("bound"), "encrypted_to": delivery.encrypted_to,
            "parquet_sha256": table.sha256, "parquet_rows": table.rows, "parquet_error": table.error})
        keep = (package_name, table.name)
        transaction.on_commit(lambda: delete_other_packages(str(delivery.pk), keep))
    return delivery


def _webhook_data(delivery: Delivery, contract: Contract, **extra: Any) -> dict[str, Any]:
    """A webhook's view of a delivery: ids and states only (never the package or its manifest)."""
    data = {"delivery": str(delivery.pk), "contract": str(contract.pk), "listing": str(contract.listing_id),
            "buyer": str(contract.buyer_id), "seller": str(contract.seller_id), "status": delivery.status, **extra}
    if not delivery.initial:  # a subscription update: which version, and from which
        data.update(update=True, version=delivery.dataset_version.number, diff_from_version=delivery.diff_from.number)
    return data


def delivery_release(*, claim: Claim, error: str) -> None:
    """Give a claim back after a transient failure: queued again, to be retried."""
    Delivery.objects.filter(pk=claim.pk, status=Delivery.Status.BUILDING, claim_token=claim.token).update(
        status=Delivery.Status.QUEUED, claim_token="", error=error[:5000], queued_at=timezone.now())


def _end_failed(delivery: Delivery, *, code: str, message: str, details: dict | None = None) -> None:
    """Mark a locked delivery failed, refund a paid contract and audit both (caller's transaction)."""
    delivery.status, delivery.error, delivery.claim_token = Delivery.Status.FAILED, message[:5000], ""
    delivery.ended_at = timezone.now()
    delivery.save(update_fields=["status", "error", "claim_token", "ended_at"])
    delete_packages_after_commit(delivery.pk)  # nothing was delivered: no file of it stays
    contract = Contract.objects.select_for_update(of=("self",)).select_related("buyer", "seller").get(pk=delivery.contract_id)
    refunded = False
    if delivery.initial and contract.status == Contract.Status.PAID:  # a failed update refunds nothing
        escrow.refund_locked(contract, reason=f"Delivery failed: {message}"[:2000], actor=_worker())
        refunded = True
    notify_contract(contract, "delivery.failed" if delivery.initial else "delivery.update_failed")
    emit("delivery.failed", (contract.seller, contract.buyer), _webhook_data(delivery, contract, refunded=refunded))
    audit_record(actor=_worker(), action="delivery.failed", obj=delivery, organization=contract.buyer,
                 details={"code": code, "message": message, "refunded": refunded, **(details or {})})


def delivery_fail(*, claim: Claim, code: str, message: str, details: dict | None = None) -> None:
    """End a build as failed for good: the buyer is refunded. Only the claim holder can."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=claim.pk)
        if delivery.status != Delivery.Status.BUILDING or delivery.claim_token != claim.token:
            return
        _end_failed(delivery, code=code, message=message, details=details)


# --- Periodic work -------------------------------------------------------------------
def delivery_sweep() -> int:
    """Re-enqueue deliveries never picked up (broker down at commit) or whose worker died; first
    make any subscription update a race left out (published after commit like any other)."""
    from exchange.services.subscriptions import subscriptions_catch_up_sweep

    subscriptions_catch_up_sweep()
    due = claims.due(BUILD_CLAIM, requeue_after_seconds=settings.DELIVERY_REQUEUE_AFTER_SECONDS)
    return sum(send_task_now(DELIVERY_BUILD_TASK, str(pk)) for pk in due)


def deliveries_expire(*, now=None) -> int:
    """Ready deliveries whose licence term ended become ``expired``. Idempotent; returns how many."""
    now = now or timezone.now()
    count = 0
    ids = list(Delivery.objects.filter(status=Delivery.Status.READY, expires_at__lte=now)
               .order_by("expires_at").values_list("pk", flat=True)[:500])
    for pk in ids:
        with transaction.atomic():
            delivery = (Delivery.objects.select_for_update(of=("self",)).select_related("contract__buyer")
                        .filter(pk=pk, status=Delivery.Status.READY, expires_at__lte=now).first())
            if delivery is None:
                continue
            delivery.status, delivery.ended_at = Delivery.Status.EXPIRED, now
            delivery.save(update_fields=["status", "ended_at"])
            audit_record(actor=Actor.system("delivery-expiry"), action="delivery.expired", obj=delivery,
                         organization=delivery.contract.buyer,
                         details={"expires_at": delivery.expires_at, "term_days": delivery.contract.term_days})
            count += 1
    return count


# --- Staff ---------------------------------------------------------------------------
def delivery_revoke(*, actor: Actor, delivery_id, reason: str) -> Delivery:
    """Staff withdraw a delivery: no further download. A delivery revoked before it was
    ready refunds the buyer (nothing was delivered)."""
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff can revoke a delivery.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required to revoke a delivery.", fields={"reason": ["Give a reason."]})
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound("No such delivery.")
        if delivery.status not in (Delivery.Status.QUEUED, Delivery.Status.BUILDING, Delivery.Status.READY):
            raise Conflict(f"This delivery is {delivery.get_status_display().lower()} and cannot be revoked.")
        old = delivery.status
        delivery.status, delivery.revoke_reason, delivery.claim_token = Delivery.Status.REVOKED, reason, ""
        delivery.ended_at = timezone.now()
        delivery.save(update_fields=["status", "revoke_reason", "claim_token", "ended_at"])
        contract = Contract.objects.select_for_update(of=("self",)).select_related("buyer", "seller").get(pk=delivery.contract_id)
        tokens_revoke(delivery=delivery, reason=f"delivery revoked: {reason}", actor=actor)  # Delta Sharing ends
        refunded = False
        if old != Delivery.Status.READY:  # nothing was delivered: drop any package files now
            delete_packages_after_commit(delivery.pk)
        if old != Delivery.Status.READY and delivery.initial and contract.status == Contract.Status.PAID:
            escrow.refund_locked(contract, reason=f"Delivery revoked before it was ready: {reason}", actor=actor)
            refunded = True
        audit_record(actor=actor, action="delivery.revoked", obj=delivery, organization=contract.buyer,
                     details={"from": old, "reason": reason, "refunded": refunded})
    return delivery
