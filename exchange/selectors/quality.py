"""Quality reports as the Django side reads them: typed, and redacted for who is looking.

The one place a stored report dict becomes a typed ``workers.quality.Report``
(``report_typed``); everything else (services, web views, API, admin, templates) reads
its attributes, never the dict by string key.

The seller's firm and exchange staff see the stored report; everyone else (anonymous
visitors, other firms, buyers) sees it with every detected personal item masked in place
(sample rows, column min/max, top values, anything else that carries cell content), with
the same detectors the profiler counts with (``workers.quality.pii``). Every face that
shows a report or its sample (web pages, API, admin) calls ``report_for_viewer``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from workers.quality.pii import redact_value
from workers.quality.report import Report


def report_typed(report: Any) -> Report:
    """A report dict (from profile(), or stored by any version) as the typed report."""
    return Report.from_dict(report)


def stored_report(version):
    """The version's stored QualityReport row (score, grade, passed, report), or None.

    Uses the row select_related/prefetched with the version when there is one."""
    if version is None:
        return None
    try:
        return version.quality_report
    except ObjectDoesNotExist:  # no report yet
        return None


def version_report(version) -> Report | None:
    """The version's stored report, unredacted (for the seller's own services and checks)."""
    stored = stored_report(version)
    if stored is None or not isinstance(stored.report, dict):
        return None
    return report_typed(stored.report)


def dataset_dialect(dataset):
    """The seller's declared CSV Dialect of ``dataset`` (workers.quality.dialect.Dialect), or None (sniffed).
    Raises ValueError naming the problems when the stored dialect is no longer valid."""
    from workers.quality.dialect import Dialect

    return Dialect.from_dict(dataset.dialect or None)


def version_dialect(version):
    """The CSV Dialect a version's file is read with, after its check as by it: the dialect its quality check
    applied (``report["dialect"]["declared"]``, so a later edit of the dataset's dialect does not change how a
    checked version reads), else — a report from before dialects, or none yet — the dataset's. Declared beats
    sniffed in both readers through ``workers.quality.csvplan.plan_from_head``."""
    from workers.quality.dialect import Dialect

    report = version_report(version)
    if report is not None and isinstance(report.dialect, dict) and "declared" in report.dialect:
        return Dialect.from_dict(report.dialect["declared"] or None)
    return dataset_dialect(version.dataset)


def version_rows_before_data(version) -> int | None:
    """How many rows of a CSV/TSV version's file come before its data (metadata lines and the header), as its
    quality check found them; None when the report does not say (a report from before header detection)."""
    report = version_report(version)
    header = report.dialect.get("header") if report is not None and isinstance(report.dialect, dict) else None
    skip = header.get("skip_rows") if isinstance(header, dict) else None
    return skip if isinstance(skip, int) and skip >= 0 else None


def may_see_raw(*, owner_id, organization=None, user=None) -> bool:
    """The dataset's seller firm and exchange staff."""
    if organization is not None and owner_id is not None and organization.pk == owner_id:
        return True
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_staff)


def report_for_viewer(version, *, organization=None, user=None) -> Report | None:
    """The version's report as this viewer may see it, or None when there is none."""
    stored = stored_report(version)
    if stored is None or not isinstance(stored.report, dict):
        return None
    if may_see_raw(owner_id=version.dataset.owner_id, organization=organization, user=user):
        return report_typed(stored.report)
    return report_typed(redact_value(stored.report))


def redacted_for_storage(report: dict[str, Any]) -> dict[str, Any]:
    """The report dict as stored: its sample rows masked, so no raw cell reaches the stored
    report (the dict is stored key for key as the profiler wrote it)."""
    if isinstance(report.get("sample"), list):
        return {**report, "sample": redact_value(report["sample"])}
    return report
