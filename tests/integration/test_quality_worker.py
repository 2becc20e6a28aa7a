"""Quality checks run by real Celery worker processes on Redis, against PostgreSQL."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from exchange.models import AuditEvent, DatasetVersion, QualityReport
from exchange.services.quality import quality_sweep
from tests.conftest import wait_until
from tests.factories import csv_bytes, make_dataset, upload

pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]


def _status(version) -> DatasetVersion:
    return DatasetVersion.objects.get(pk=version.pk)


def test_worker_checks_an_uploaded_version(make_firm, actor_for, celery_worker_process):
    # Given a real worker consuming the quality queue on Redis
    worker = celery_worker_process(queues="quality")
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    # When a version is uploaded (the task is published after commit)
    version = upload(actor, dataset)
    # Then the worker checks it and stores exactly one report
    done = wait_until(lambda: _status(version).status in ("passed", "failed") and _status(version), timeout=60,
                      message=f"the check to finish; worker log:\n{worker.output()[-3000:]}")
    assert done.status == "passed" and done.row_count == 20 and done.check_percent == 100.0
    assert QualityReport.objects.filter(version=version).count() == 1
    assert AuditEvent.objects.filter(action="version.checked", object_id=str(version.pk)).count() == 1


def test_sigkilled_check_runs_again_and_stores_one_report(make_firm, actor_for, celery_worker_process):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset)  # no worker yet: the message waits in Redis
    # Replace the stored file with a FIFO so the check blocks mid-way, reading, until we let it go.
    path = default_storage.path(version.file.name)
    real = path + ".real"
    os.replace(path, real)
    os.mkfifo(path)
    worker = celery_worker_process(queues="quality", QUALITY_STALE_SECONDS="2")
    wait_until(lambda: _status(version).status == "checking", timeout=60, message="the first attempt to claim the check")
    children = wait_until(worker.child_pids, timeout=10, message="the worker's pool process")
    # When the process running the check is killed with SIGKILL
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    os.replace(real, path)  # the file is readable again for the next attempt
    # Then the check runs again (redelivery, then claim takeover once stale) and completes once
    done = wait_until(lambda: _status(version).status in ("passed", "failed") and _status(version), timeout=90,
                      message=f"the check to be retried; worker log:\n{worker.output()[-4000:]}")
    assert done.status == "passed"
    assert done.check_attempts == 2
    assert QualityReport.objects.filter(version=version).count() == 1
    assert AuditEvent.objects.filter(action="version.checked", object_id=str(version.pk)).count() == 1
    assert "WorkerLostError" in worker.output() or "SIGKILL" in worker.output()


def test_sigkilled_main_worker_is_recovered_within_30_seconds(make_firm, actor_for, celery_worker_process):
    """The whole worker (main process and pool) is SIGKILLed mid-check: its message stays unacked in
    Redis for the visibility timeout (hours), so the restarted worker's beat sweeper must find the
    stale claim. Defaults: heartbeat thread every 5 s, stale after 15 s, sweep every 5 s."""
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset)
    path = default_storage.path(version.file.name)
    real = path + ".real"
    os.replace(path, real)
    os.mkfifo(path)  # the check blocks opening it: no progress callbacks, only the heartbeat thread
    worker = celery_worker_process(queues="quality")
    claimed = wait_until(lambda: _status(version).status == "checking" and _status(version), timeout=60,
                         message="the first attempt to claim the check")
    # A blocked but live check keeps its claim fresh from the heartbeat thread.
    wait_until(lambda: _status(version).check_heartbeat_at > claimed.check_heartbeat_at, timeout=20,
               message="a heartbeat from the background thread")
    os.killpg(worker.proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    worker.proc.wait(timeout=10)
    os.replace(real, path)

    replacement = celery_worker_process(queues="quality", beat=True)
    done = wait_until(lambda: _status(version).status in ("passed", "failed") and _status(version), timeout=60,
                      message=f"the check to be taken over; worker log:\n{replacement.output()[-4000:]}")
    elapsed = time.monotonic() - killed_at

    assert done.status == "passed" and done.check_attempts == 2
    assert elapsed < 30, f"recovered {elapsed:.1f} s after the SIGKILL"
    assert QualityReport.objects.filter(version=version).count() == 1
    print(f"recovered {elapsed:.1f} s after SIGKILL of the main worker")


def test_check_past_time_limit_ends_failed_with_message(make_firm, actor_for, celery_worker_process):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset)
    path = default_storage.path(version.file.name)
    os.remove(path)
    os.mkfifo(path)  # nobody ever writes: the check cannot finish
    worker = celery_worker_process(queues="quality", QUALITY_CHECK_TIME_LIMIT="3")
    done = wait_until(lambda: _status(version).status == "failed" and _status(version), timeout=60,
                      message=f"the time limit to end the check; worker log:\n{worker.output()[-3000:]}")
    assert "exceeded its time limit of 3 seconds" in done.check_error
    assert QualityReport.objects.filter(version=version).count() == 0
    os.remove(path)


def test_sweeper_requeues_a_version_whose_task_was_lost(make_firm, actor_for, celery_worker_process):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    version = upload(actor, dataset, content=csv_bytes(7))
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in client.scan_iter(match=f"{settings.CELERY_KEYPREFIX}*"):
        client.delete(key)  # the published task is lost (broker restarted without persistence)
    DatasetVersion.objects.filter(pk=version.pk).update(created_at=timezone.now() - timedelta(hours=1))
    worker = celery_worker_process(queues="quality")
    assert quality_sweep() == 1
    done = wait_until(lambda: _status(version).status == "passed" and _status(version), timeout=60,
                      message=f"the swept check; worker log:\n{worker.output()[-3000:]}")
    assert done.row_count == 7
