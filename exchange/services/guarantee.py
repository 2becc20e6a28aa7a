"""Quality guarantees on offers: validated against the listed version when the offer is made,
then frozen (offer → contract → licence text → delivery manifest). The pure rules live in
``workers.quality.guarantee``; the re-check of a delivered file in ``services.recheck``."""

from __future__ import annotations

from typing import Any

from exchange.errors import InvalidInput
from exchange.models import Listing
from exchange.selectors.quality import stored_report, version_report
from workers.quality import guarantee as rules


def guarantee_for_offer(*, raw: Any, listing: Listing) -> dict[str, Any] | None:
    """The frozen guarantee for an offer on ``listing``, or None. Refuses (400, naming each
    failing threshold) a guarantee that the listed version's own quality report fails."""
    version = listing.version
    columns = [c.get("name") for c in (listing.dataset.schema or {}).get("fields", []) if c.get("name")]
    typed = version_report(version)
    if not columns and typed is not None:
        columns = [c.name for c in typed.columns]
    report = stored_report(version)  # the stored row: its outcome, and the dict the pure rules read
    try:
        thresholds = rules.parse(raw, columns=columns)
    except rules.GuaranteeError as exc:
        raise InvalidInput("The quality guarantee has errors.",
                           fields={f"guarantee.{k}" if k != "guarantee" else k: v for k, v in exc.fields.items()}) from None
    if thresholds is None:
        return None
    if report is None or not report.passed:
        raise InvalidInput("A quality guarantee needs a version whose quality check passed.",
                           fields={"guarantee": ["The listed version has no passed quality report."]})
    frozen = rules.freeze(thresholds, listed_report=report.report,
                          personal_data_declared=listing.dataset.contains_personal_data)
    verdict = rules.evaluate(frozen, report.report)
    if not verdict.passed:
        failed = "; ".join(f"{c.expected} (listed version: {c.actual})" for c in verdict.failures)
        raise InvalidInput(f"The listed version itself fails this guarantee: {failed}.",
                           fields={"guarantee": [f"The listed version fails: {failed}."]}, code="guarantee_fails_listed")
    return frozen


def guarantee_licence_text(guarantee: dict[str, Any] | None) -> str:
    """The licence clause for a frozen guarantee (deterministic)."""
    promises = rules.describe(guarantee)
    if not promises:
        return "None: the data is licensed as described in its quality report."
    return ("The licensor guarantees that the delivered data meets: " + "; ".join(promises) + ". If a re-check of the "
            "delivered file by the exchange finds it does not, the licensee is refunded in full.")


def guarantee_lines(guarantee: dict[str, Any] | None) -> list[str]:
    return rules.describe(guarantee)
