"""Claims on worker rows: the conditional UPDATE that lets exactly one live attempt work on a
row, its heartbeat, and the sweeper's query for rows whose worker died.

A :class:`ClaimSpec` names a model's fields; :func:`claim` moves a waiting row (or a running
one whose heartbeat is older than ``stale_seconds``) to running with a fresh token, in one
``UPDATE … WHERE`` — zero rows updated means another attempt holds it (``ClaimBusy``) or there
is nothing to do (None). The holder refreshes the heartbeat from a background thread
(:func:`heartbeat`) and stores its result only while :func:`holds` is true under a row lock.
Used by quality checks (services.quality), delivery builds (services.delivery) and the quality
re-check of disputes (services.recheck).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Model, Q
from django.utils import timezone

from exchange.services.heartbeat import HeartbeatThread


class ClaimBusy(Exception):
    """Another live attempt holds the claim; try again once it could have gone stale."""


@dataclass(frozen=True)
class ClaimSpec:
    model: type[Model]
    waiting: Q              # rows a worker may start on
    running: Q              # rows an attempt is working on
    token_field: str
    heartbeat_field: str
    attempts_field: str
    stale_setting: str      # the setting naming how old a heartbeat must be to count as a dead worker
    on_claim: dict[str, Any] = field(default_factory=dict)  # fields set when claimed (e.g. status)
    queued_at_field: str = ""  # when a waiting row was queued (the sweeper re-enqueues old ones)

    def stale_before(self):
        return timezone.now() - timedelta(seconds=getattr(settings, self.stale_setting))


@dataclass(frozen=True)
class Claim:
    pk: str
    token: str
    attempts: int


def claim(spec: ClaimSpec, pk: Any, **updates: Any) -> Claim | None:
    """Claim row ``pk``: a Claim, None (nothing to do) or ClaimBusy (a live attempt has it).
    ``updates`` are written by the same UPDATE (progress reset, start time)."""
    token = uuid.uuid4().hex
    stale = spec.running & Q(**{f"{spec.heartbeat_field}__lt": spec.stale_before()})
    updated = spec.model.objects.filter(spec.waiting | stale, pk=pk).update(**{
        spec.token_field: token, spec.heartbeat_field: timezone.now(),
        spec.attempts_field: F(spec.attempts_field) + 1, **spec.on_claim, **updates})
    if updated:
        attempts = spec.model.objects.filter(pk=pk).values_list(spec.attempts_field, flat=True).get()
        return Claim(str(pk), token, attempts)
    if spec.model.objects.filter(spec.running, pk=pk).exists():
        raise ClaimBusy(str(pk))
    return None


def holds(spec: ClaimSpec, row: Model, c: Claim) -> bool:
    """True while ``row`` (read under its lock) is still running under this claim."""
    return (spec.model.objects.filter(spec.running, pk=row.pk).exists()
            and getattr(row, spec.token_field) == c.token)


def touch(spec: ClaimSpec, c: Claim) -> None:
    spec.model.objects.filter(pk=c.pk, **{spec.token_field: c.token}).update(**{spec.heartbeat_field: timezone.now()})


def heartbeat(spec: ClaimSpec, c: Claim, interval: float) -> HeartbeatThread:
    """``with heartbeat(spec, claim, 5):`` keeps the claim alive while the work runs."""
    return HeartbeatThread(lambda: touch(spec, c), interval, name=f"heartbeat-{c.pk}")


def due(spec: ClaimSpec, *, requeue_after_seconds: float, limit: int = 500) -> list[Any]:
    """Rows a sweeper should enqueue again: waiting too long (broker down at commit) or stale."""
    now = timezone.now()
    waiting = spec.waiting & Q(**{f"{spec.queued_at_field}__lt": now - timedelta(seconds=requeue_after_seconds)}) \
        if spec.queued_at_field else spec.waiting
    stale = spec.running & Q(**{f"{spec.heartbeat_field}__lt": spec.stale_before()})
    return list(spec.model.objects.filter(waiting | stale).values_list("pk", flat=True)[:limit])
