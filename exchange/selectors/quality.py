"""What a viewer may see of a quality report: the one rule for personal data in reports.

The seller's firm and exchange staff see the stored report; everyone else (anonymous
visitors, other firms, buyers) sees it with every detected personal item masked in place
(sample rows, column min/max, top values, anything else that carries cell content), with
the same detectors the profiler counts with (``workers.quality.pii``). Every face that
shows a report or its sample (web pages, API, admin) calls ``report_for_viewer``.
"""

from __future__ import annotations

from typing import Any

from workers.quality.pii import redact_value


def may_see_raw(*, owner_id, organization=None, user=None) -> bool:
    """The dataset's seller firm and exchange staff."""
    if organization is not None and owner_id is not None and organization.pk == owner_id:
        return True
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_staff)


def report_for_viewer(version, *, organization=None, user=None) -> dict[str, Any] | None:
    """The version's report dict as this viewer may see it, or None when there is none."""
    stored = getattr(version, "quality_report", None) if hasattr(version, "quality_report") else None
    if stored is None or not isinstance(stored.report, dict):
        return None
    if may_see_raw(owner_id=version.dataset.owner_id, organization=organization, user=user):
        return stored.report
    return redact_value(stored.report)


def redacted_for_storage(report: dict[str, Any]) -> dict[str, Any]:
    """The report as stored: its sample rows masked, so no raw cell reaches the stored report."""
    if isinstance(report.get("sample"), list):
        return {**report, "sample": redact_value(report["sample"])}
    return report
