"""Package files of deliveries: removed when a build fails, purged after retention.

A delivery's packages live under ``deliveries/<delivery id>/`` (one file per build attempt
until one is stored). Files go:

* at once when a write fails (disk full, I/O error): the partial package of that attempt;
* after commit when a delivery ends ``failed`` or is revoked before it was ready: every
  file of the delivery (nothing was delivered, nothing may be downloaded);
* ``DELIVERY_RETENTION_DAYS`` after an ``expired`` or ``revoked`` delivery ended: its
  package, by the periodic ``shujiao.delivery.purge_packages`` task (idempotent, audited).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from exchange import storage
from exchange.actor import Actor
from exchange.models import Delivery
from exchange.services.audit import audit_record

logger = logging.getLogger(__name__)
PURGE_BATCH = 500


def package_folder(delivery_id) -> str:
    return f"deliveries/{delivery_id}"


def delete_partial(name: str) -> None:
    """Remove what a failed write left under ``name`` (an empty or half-written file)."""
    try:
        storage.delete(name)  # deleting a name that is not there is a no-op on every backend
    except OSError:  # storage errors (S3 unreachable, …) are OSErrors too
        logger.warning("could not delete the partial package %s", name, exc_info=True)


def delete_packages(delivery_id, *, also: str = "") -> list[str]:
    """Delete every file of a delivery (and ``also``, a package name outside the folder, if
    any); returns the names deleted. Raises OSError when storage refuses."""
    folder = package_folder(delivery_id)
    names: list[str] = []
    try:
        names = [f"{folder}/{name}" for name in storage.listdir(folder)]
    except NotImplementedError:  # a storage that cannot list: at least the known package
        pass
    if also and also not in names and default_storage.exists(also):
        names.append(also)
    for name in names:
        storage.delete(name)
    _remove_empty_folder(folder)
    return names


def _remove_empty_folder(folder: str) -> None:
    try:
        path = default_storage.path(folder)
    except NotImplementedError:  # object stores have no folders
        return
    try:
        os.rmdir(path)
    except OSError:  # missing or not empty
        pass


def delete_packages_after_commit(delivery_id) -> None:
    """Once the caller's transaction commits, remove the delivery's files (best effort, logged)."""
    def run():
        try:
            removed = delete_packages(delivery_id)
        except OSError:
            logger.warning("could not delete the packages of delivery %s", delivery_id, exc_info=True)
        else:
            if removed:
                logger.info("delivery %s: removed %d package file(s)", delivery_id, len(removed))

    transaction.on_commit(run)


def delivery_packages_purge(*, now=None) -> int:
    """Delete the package files of expired and revoked deliveries that ended more than
    ``DELIVERY_RETENTION_DAYS`` ago. Idempotent: a purged delivery has no ``package_name``
    and is not picked again; a storage error leaves it for the next run. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DELIVERY_RETENTION_DAYS)
    ended = (Delivery.objects.filter(status__in=(Delivery.Status.EXPIRED, Delivery.Status.REVOKED), ended_at__lte=cutoff)
             .exclude(package_name=""))
    count = 0
    for pk in list(ended.order_by("ended_at").values_list("pk", flat=True)[:PURGE_BATCH]):
        try:
            with transaction.atomic():
                delivery = ended.select_for_update(of=("self",)).select_related("contract__buyer").filter(pk=pk).first()
                if delivery is None:
                    continue
                package = delivery.package_name
                removed = delete_packages(delivery.pk, also=package)
                delivery.package_name = delivery.parquet_name = ""  # the Parquet copy goes with the package
                delivery.save(update_fields=["package_name", "parquet_name"])
                audit_record(actor=Actor.system("delivery-retention"), action="delivery.package_removed", obj=delivery,
                             organization=delivery.contract.buyer, details={
                                 "status": delivery.status, "ended_at": delivery.ended_at, "package_name": package,
                                 "package_size": delivery.package_size, "files_removed": len(removed),
                                 "retention_days": settings.DELIVERY_RETENTION_DAYS})
        except OSError:
            logger.warning("could not purge the packages of delivery %s; next run retries", pk, exc_info=True)
            continue
        count += 1
    return count


def delete_after_commit(name: str) -> None:
    """Delete a stored file once the caller's transaction commits (best effort, logged)."""
    transaction.on_commit(lambda: delete_quietly(name))


def delete_quietly(name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        logger.warning("could not delete %s", name, exc_info=True)


def delete_other_packages(delivery_id: str, keep: tuple[str, ...]) -> None:
    """Remove packages (and Parquet copies) left by attempts that died after uploading."""
    folder = f"deliveries/{delivery_id}"
    try:
        files = storage.listdir(folder)
    except (OSError, NotImplementedError):
        return
    for name in files:
        path = f"{folder}/{name}"
        if path not in keep:
            delete_quietly(path)
