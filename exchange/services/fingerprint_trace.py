"""Staff trace a leaked file to the contract(s) whose fingerprinted copy it came from.

Candidates are the contracts whose delivery of a listing was fingerprinted: their keys
are derived from the exchange secret and their ids (workers.fingerprint), the plan is
the one stored with their deliveries (it holds no secret). Every trace is audited with
the leaked file's SHA-256 and the verdict.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from exchange.actor import Actor
from exchange.errors import Forbidden, InvalidInput, NotFound
from exchange.models import Delivery, Listing
from exchange.services.audit import audit_record
from exchange.services.delivery_protect import contract_key_for, selection_key_for

CHUNK = 1 << 20


@dataclass(frozen=True)
class ContractScore:
    contract_id: str
    buyer: str
    cells: int
    agree: int
    p_innocent: float
    p_any_innocent: float
    named: bool


@dataclass(frozen=True)
class TraceReport:
    listing_id: str
    listing_title: str
    version: int
    file_sha256: str
    fmt: str
    rows_read: int
    rows_scored: int
    cells_needed: int
    min_rows: int | None
    alpha: float
    scores: tuple[ContractScore, ...]
    problem: str = ""

    @property
    def named(self) -> tuple[ContractScore, ...]:
        return tuple(s for s in self.scores if s.named)

    @property
    def best(self) -> ContractScore | None:
        return self.scores[0] if self.scores else None

    @property
    def runner_up(self) -> ContractScore | None:
        return self.scores[1] if len(self.scores) > 1 else None


def _require_staff(actor: Actor) -> None:
    """Staff, or the server's own shell (``manage.py trace``: a system actor)."""
    if actor.type == "system":
        return
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff can trace a leaked file.")


def _fingerprinted(listing_id=None):
    qs = (Delivery.objects.filter(fingerprint__isnull=False).exclude(fingerprint={})
          .select_related("contract__buyer", "contract__listing", "dataset_version").order_by("created_at"))
    return qs.filter(contract__listing_id=listing_id) if listing_id else qs


def _spool(upload: BinaryIO) -> tuple[BinaryIO, str, bytes]:
    """Copy the upload to a seekable temporary file, hashing it; returns it, its SHA-256 and its head."""
    tmp = tempfile.TemporaryFile(dir=settings.DELIVERY_TMP_DIR, prefix="shujiao-trace-")
    h = hashlib.sha256()
    head = b""
    while chunk := upload.read(CHUNK):
        if len(head) < 65536:
            head += chunk[: 65536 - len(head)]
        h.update(chunk)
        tmp.write(chunk)
    tmp.seek(0)
    return tmp, h.hexdigest(), head


def _trace_group(leak: BinaryIO, fmt: str, deliveries: list[Delivery], sha: str):
    from workers.fingerprint import Plan, min_rows, trace

    first = deliveries[0]
    plan = Plan.from_json(first.fingerprint["plan"])
    version = first.dataset_version  # a subscription's update marks its own version's rows
    by_id = {str(d.contract_id): d for d in deliveries}
    result = trace(leak, fmt, plan=plan, selection=selection_key_for(version),
                   candidates={cid: contract_key_for(d.contract) for cid, d in by_id.items()})
    scores = tuple(ContractScore(contract_id=s.contract, buyer=by_id[s.contract].contract.buyer.name, cells=s.cells,
                                 agree=s.agree, p_innocent=s.p_innocent, p_any_innocent=s.p_any_innocent, named=s.named)
                   for s in result.scores)
    return TraceReport(listing_id=str(first.contract.listing_id), listing_title=first.contract.listing.title,
                       version=version.number, file_sha256=sha, fmt=fmt, rows_read=result.rows_read,
                       rows_scored=result.rows_scored, cells_needed=result.cells_needed,
                       min_rows=min_rows(plan, len(by_id), result.alpha), alpha=result.alpha, scores=scores,
                       problem=result.problem)


def fingerprint_trace(*, actor: Actor, upload: BinaryIO, filename: str = "", listing_id=None) -> list[TraceReport]:
    """Score the leaked file against every fingerprinted contract (of ``listing_id``, or of
    every listing whose key columns the file has). Reports are best first."""
    from workers.fingerprint import KeyColumnsMissing, TableError, sniff_format

    _require_staff(actor)
    listing = None
    if listing_id:
        try:
            listing_id = uuid.UUID(str(listing_id))
        except ValueError:
            raise InvalidInput(f"{listing_id!r} is not a listing id (a UUID).", fields={"listing": ["Not a UUID."]}) from None
        listing = Listing.objects.filter(pk=listing_id).first()
        if listing is None:
            raise NotFound(f"No listing {listing_id}.")
    groups: dict[str, list[Delivery]] = {}
    for d in _fingerprinted(listing_id):
        groups.setdefault(str(d.dataset_version_id), []).append(d)
    leak, sha, head = _spool(upload)
    reports: list[TraceReport] = []
    problems: list[str] = []
    with leak:
        try:
            fmt = sniff_format(head, filename)
        except TableError as exc:
            raise InvalidInput(str(exc), fields={"file": [str(exc)]}) from None
        for deliveries in groups.values():
            leak.seek(0)
            try:
                reports.append(_trace_group(leak, fmt, deliveries, sha))
            except KeyColumnsMissing as exc:
                problems.append(f"{deliveries[0].contract.listing.title}: {exc}")
            except TableError as exc:
                raise InvalidInput(f"The file cannot be read as {fmt.upper()}: {exc}", fields={"file": [str(exc)]}) from None
    reports.sort(key=lambda r: (not r.named, r.best.p_innocent if r.best else 1.0))
    if listing is not None and not reports:
        why = "; ".join(problems) or "no delivery of this listing was fingerprinted"
        raise InvalidInput(f"Nothing to trace against: {why}.", fields={"file": [why]})
    best = reports[0] if reports else None
    with transaction.atomic():
        audit_record(actor=actor, action="fingerprint.traced", obj=listing, details={
            "file_sha256": sha, "filename": filename[:200], "format": fmt, "listing": listing_id and str(listing_id),
            "named": [s.contract_id for r in reports for s in r.named],
            "best": best and best.best and {"contract": best.best.contract_id,
                                            "p_any_innocent": f"{best.best.p_any_innocent:.3g}"},
            "candidates": sum(len(r.scores) for r in reports), "problems": problems})
    return reports
