"""The Django side reads quality reports typed, through exchange/selectors/quality.py only."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client
from django.urls import reverse

from exchange.models import QualityReport
from exchange.selectors import quality as quality_sel
from exchange.services import orgs as orgs_svc
from workers.quality.report import Report

# a report as the first versions of the profiler stored it: no schema_version, findings,
# score_deductions, line_endings, near duplicates or column statistics
EARLY_REPORT = {
    "format": "csv", "encoding": "utf-8", "delimiter": ",", "bytes": 120, "header": ["id", "text", "label"],
    "rows": 3, "malformed_rows": 0, "malformed_examples": [], "duplicate_rows": 0,
    "columns": [{"name": "id", "type": "integer", "declared": True, "null_count": 0, "distinct_count": 3,
                 "invalid_count": 0, "min": 1, "max": 3}],
    "labels": {"column": "label", "distribution": {"pos": 2, "neg": 1}, "outside_set": 0, "missing": 0,
               "imbalance_ratio": 2.0, "conflicts": 0},
    "pii": {"mobile": 1, "email": 0, "resident_id": 0, "bank_card": 0, "by_column": {"text": {"mobile": 1}},
            "examples": ["138****8000"]},
    "formula_injection": 0, "sample": [{"id": "1", "text": "call 13800138000", "label": "pos"}],
    "score": 87, "grade": "B", "score_breakdown": {"structure": 20.0},
    "gates": {"passed": True, "failures": []}, "warnings": ["personal data found; declare personalData in the schema"],
}


def _store_early(listing) -> None:
    QualityReport.objects.filter(version=listing.version).update(report=EARLY_REPORT, score=87, grade="B")


def test_an_early_stored_report_renders_on_the_listing_page(client, published):
    # given a report stored before schema_version existed
    _store_early(published)
    # when an anonymous visitor opens the listing
    response = client.get(reverse("web:listing", args=[published.pk]))
    # then the page shows its figures, the sample masked
    assert response.status_code == 200
    quality = response.context["quality"]
    assert (quality["score"], quality["grade"], quality["rows"], quality["gates_passed"]) == (87, "B", 3, True)
    assert quality["score_deductions"] == [] and quality["findings"] == [] and quality["pii_total"] == 1
    body = response.content.decode()
    assert "138****8000" in body and "13800138000" not in body


def test_the_api_returns_an_early_report_with_its_version(published, seller, actor_for):
    _store_early(published)
    _key, secret = orgs_svc.api_key_create(actor=actor_for(seller), name="k", scopes=["read"])
    data = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}").get(
        f"/api/v1/versions/{published.version.pk}/quality-report/").json()
    # the stored keys come back as stored (the seller sees the raw sample); keys the early
    # report lacks come with their defaults, so API clients see one shape, version 1
    assert {k: data[k] for k in EARLY_REPORT if k != "columns"} == {k: v for k, v in EARLY_REPORT.items()
                                                                   if k != "columns"}
    assert data["columns"] == [{**EARLY_REPORT["columns"][0], "distinct_approximate": False}]
    assert (data["schema_version"], data["findings"], data["score_deductions"]) == (1, [], [])


def test_selectors_return_the_typed_report(published, buyer):
    version = published.version
    raw = quality_sel.version_report(version)
    assert isinstance(raw, Report) and raw.rows == QualityReport.objects.get(version=version).report["rows"]
    assert raw.passed is True and raw.gate_codes() == []
    _store_early(published)
    version.refresh_from_db()
    seen_by_buyer = quality_sel.report_for_viewer(version, organization=buyer)
    assert seen_by_buyer.sample == [{"id": "1", "text": "call 138****8000", "label": "pos"}]
    assert quality_sel.report_for_viewer(version, organization=version.dataset.owner).sample == EARLY_REPORT["sample"]


def test_no_module_of_the_django_side_reads_a_report_by_string_key():
    # report["..."], report.get("..."), x.report["..."], ["gates"]: only the selector turns the dict typed
    root = Path(__file__).resolve().parents[2] / "exchange"
    pattern = re.compile(r"""report(\.report)?\s*(\[\s*["']|\.get\(\s*["'])|\[["']gates["']\]""")
    allowed = {Path("selectors/quality.py")}
    offenders = [f"{p.relative_to(root)}:{n}" for p in root.rglob("*.py") if "migrations" not in p.parts
                 and p.relative_to(root) not in allowed
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []
