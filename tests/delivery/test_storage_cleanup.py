"""Package files: a build that fails (disk full) leaves none; expired and revoked deliveries
lose theirs after DELIVERY_RETENTION_DAYS, once, audited."""

from __future__ import annotations

import errno
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage

from exchange.models import AuditEvent, Delivery
from exchange.services import delivery as svc
from exchange.services.delivery_storage import delivery_packages_purge
from tests.delivery.test_services import packages

pytestmark = pytest.mark.django_db


@pytest.fixture
def disk_full_while_storing(monkeypatch):
    """FileSystemStorage writes the first ``keep`` bytes of a package, then the disk is full."""
    original = FileSystemStorage._save
    calls = []

    def install(keep: int):
        def _save(self, name, content):
            calls.append(name)
            data = content.read()

            class Truncated(ContentFile):
                def chunks(self, chunk_size=None):
                    if keep:
                        yield data[:keep]
                    raise OSError(errno.ENOSPC, "No space left on device")

            return original(self, name, Truncated(b""))

        monkeypatch.setattr(FileSystemStorage, "_save", _save)

    install.calls = calls
    return install


def test_disk_full_while_storing_leaves_no_package_and_the_failed_delivery_none(
        paid_contract, settings, disk_full_while_storing, django_capture_on_commit_callbacks):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    contract = paid_contract(content=b"id,text,label\n" + b"".join(b"%d,some row text,pos\n" % i for i in range(20000)))
    delivery = contract.delivery
    for attempt, keep in ((1, 200_000), (2, 0), (3, 0)):  # half a package, then two empty files
        disk_full_while_storing(keep)
        claim = svc.delivery_claim(delivery_id=str(delivery.pk))
        with pytest.raises(svc.TransientBuildError):
            svc.delivery_build(claim=claim)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("queued", attempt)
        assert "No space left on device" in delivery.error
        assert packages(delivery) == []
    assert len(set(disk_full_while_storing.calls)) == 3

    with django_capture_on_commit_callbacks(execute=True):
        assert svc.delivery_claim(delivery_id=str(delivery.pk)) is None
    delivery.refresh_from_db()
    contract.refresh_from_db()
    assert delivery.status == "failed" and contract.status == "refunded"
    assert packages(delivery) == []


def test_a_failed_delivery_deletes_files_left_by_earlier_attempts(paid_contract, settings,
                                                                   django_capture_on_commit_callbacks):
    """A worker killed after uploading leaves a package; when the delivery fails for good it goes too."""
    settings.DELIVERY_MAX_ATTEMPTS = 1
    delivery = paid_contract().delivery
    claim = svc.delivery_claim(delivery_id=str(delivery.pk))
    default_storage.save(f"deliveries/{delivery.pk}/{claim.token}.zip", ContentFile(b"x" * 1000))
    svc.delivery_release(claim=claim, error="worker lost")
    assert len(packages(delivery)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert svc.delivery_claim(delivery_id=str(delivery.pk)) is None

    assert Delivery.objects.get(pk=delivery.pk).status == "failed"
    assert packages(delivery) == []


def test_revoking_before_ready_deletes_files(paid_contract, staff_actor, django_capture_on_commit_callbacks):
    delivery = paid_contract().delivery
    default_storage.save(f"deliveries/{delivery.pk}/stray.zip", ContentFile(b"x"))
    with django_capture_on_commit_callbacks(execute=True):
        svc.delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="seller withdrew")
    assert packages(delivery) == []


def _removed_events(delivery) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="delivery.package_removed", object_id=str(delivery.pk)))


def test_expired_delivery_packages_are_purged_after_retention_once(ready_delivery):
    delivery = ready_delivery(term_days=30)
    assert packages(delivery)
    ended = delivery.expires_at + timedelta(seconds=1)
    assert svc.deliveries_expire(now=ended) == 1
    retention = timedelta(days=settings.DELIVERY_RETENTION_DAYS)

    assert delivery_packages_purge(now=ended + retention - timedelta(minutes=1)) == 0
    assert packages(delivery)
    assert delivery_packages_purge(now=ended + retention) == 1
    assert packages(delivery) == []
    assert delivery_packages_purge(now=ended + retention + timedelta(days=1)) == 0  # idempotent

    delivery.refresh_from_db()
    assert delivery.status == "expired" and delivery.package_name == "" and delivery.package_size
    assert delivery.parquet_name == "" and delivery.parquet_size  # the Parquet copy went too
    (event,) = _removed_events(delivery)
    assert event.details["status"] == "expired" and event.details["files_removed"] == 2
    assert event.details["retention_days"] == settings.DELIVERY_RETENTION_DAYS
    assert event.actor_type == "system"


def test_revoked_delivery_packages_are_purged_and_ready_ones_kept(ready_delivery, staff_actor, settings):
    settings.DELIVERY_RETENTION_DAYS = 2
    revoked, kept = ready_delivery(), ready_delivery()
    svc.delivery_revoke(actor=staff_actor, delivery_id=revoked.pk, reason="licence breach")
    revoked.refresh_from_db()

    assert delivery_packages_purge(now=revoked.ended_at + timedelta(days=2)) == 1

    assert packages(revoked) == [] and len(_removed_events(revoked)) == 1
    assert len(packages(kept)) == 2 and _removed_events(kept) == []  # its package and Parquet copy


def test_a_storage_error_during_purge_leaves_the_delivery_for_the_next_run(ready_delivery, staff_actor, monkeypatch):
    delivery = ready_delivery()
    svc.delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="breach")
    delivery.refresh_from_db()
    later = delivery.ended_at + timedelta(days=settings.DELIVERY_RETENTION_DAYS)

    def refuse(self, name):
        raise PermissionError(errno.EACCES, "Permission denied", name)

    with monkeypatch.context() as m:
        m.setattr(FileSystemStorage, "delete", refuse)
        assert delivery_packages_purge(now=later) == 0
    assert Delivery.objects.get(pk=delivery.pk).package_name and _removed_events(delivery) == []

    assert delivery_packages_purge(now=later) == 1
    assert packages(delivery) == []


def test_the_purge_runs_hourly_from_beat_through_a_thin_task(ready_delivery, staff_actor, settings):
    from workers.delivery_tasks import purge_delivery_packages

    entry = settings.CELERY_BEAT_SCHEDULE["delivery-purge-packages"]
    assert entry == {"task": "shujiao.delivery.purge_packages", "schedule": 3600.0}
    settings.DELIVERY_RETENTION_DAYS = 0
    delivery = ready_delivery()
    svc.delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="breach")
    assert purge_delivery_packages.name == entry["task"]
    assert purge_delivery_packages() == 1
    assert purge_delivery_packages() == 0
    assert packages(delivery) == []
