"""Statistics and the score breakdown on the listing page and through the API; top values
go through the same redaction as samples (report_for_viewer)."""

from __future__ import annotations

import statistics

import pytest
from django.test import Client
from django.urls import reverse

from exchange.models import QualityReport
from exchange.selectors.quality import report_for_viewer
from exchange.services import catalog as catalog_svc
from exchange.services import orgs as orgs_svc
from tests import factories

SCORES = [i * 1.5 for i in range(1, 41)] + [2.0, 3.0]
SCHEMA = {"fields": [{"name": "id", "type": "integer"}, {"name": "score", "type": "number"},
                     {"name": "city", "type": "string"}, {"name": "contact", "type": "string"},
                     {"name": "label", "type": "string"}],
          "primaryKey": ["id"], "labelField": "label", "labels": ["pos", "neg"]}


def _csv() -> bytes:
    rows = ["id,score,city,contact,label"]
    for i in range(1, 41):
        contact = "13800138000" if i % 2 else "hotline 400"
        rows.append(f"{i},{i * 1.5},{'北京' if i % 3 else '上海'},{contact},{'pos' if i % 4 else 'neg'}")
    rows += ["41,,上海,hotline 400,", "42,2.0,北京,hotline 400,pos", "43,3.0,,hotline 400,neg"]
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def stats_listing(seller_actor, staff_actor):
    dataset = factories.make_dataset(seller_actor, schema=SCHEMA, contains_personal_data=True,
                                     legal_basis="Consent of each person (PIPL art. 13(1))")
    version = factories.passed_version(seller_actor, dataset, _csv())
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=version)
    catalog_svc.offer_create(actor=seller_actor, listing=listing, name="Standard", price_fen=1000, access_mode="instant")
    catalog_svc.listing_submit(actor=seller_actor, listing=listing)
    return catalog_svc.listing_review(actor=staff_actor, listing=listing, approve=True)


def _col(report: dict, name: str) -> dict:
    return next(c for c in report["columns"] if c["name"] == name)


def test_listing_page_shows_score_breakdown_and_statistics(client, stats_listing):
    report = QualityReport.objects.get(version=stats_listing.version)
    deductions = report.report["score_deductions"]
    assert deductions and round(sum(d["points"] for d in deductions), 2) == 100 - report.score

    response = client.get(reverse("web:listing", args=[stats_listing.pk]))

    body = response.content.decode()
    assert "Score breakdown" in body
    rows = response.context["quality"]["score_deductions"]
    assert [r["code"] for r in rows] == [d["code"] for d in deductions]
    for d in deductions:
        assert d["code"] in body and d["reason"] in body
    assert "empty_cells" in body
    stats = {s["name"]: s for s in response.context["quality"]["column_statistics"]}
    assert stats["score"]["kind"] == "numeric"
    assert stats["score"]["median"] == f"{statistics.median(SCORES):.4g}"
    assert stats["score"]["std"] == f"{statistics.stdev(SCORES):.4g}"
    assert stats["city"]["top_values"][0]["value"] == "北京"
    assert "Statistics" in body and "Histogram (10 bins)" in body
    assert "≈" not in body  # every figure of this small file is exact


def test_listing_page_marks_approximate_figures(client, stats_listing):
    report = QualityReport.objects.get(version=stats_listing.version)
    data = dict(report.report)
    data["columns"] = [{**c, "stats": {**c["stats"], "approximate": True, "approximate_fields": ["median", "histogram"]}}
                       if c["name"] == "score" else c for c in data["columns"]]
    QualityReport.objects.filter(pk=report.pk).update(report=data)

    response = client.get(reverse("web:listing", args=[stats_listing.pk]))

    stats = {s["name"]: s for s in response.context["quality"]["column_statistics"]}
    median = f"{statistics.median(SCORES):.4g}"
    assert stats["score"]["median"] == "≈" + median
    assert stats["score"]["histogram"].startswith("≈")
    assert stats["score"]["mean"] == f"{statistics.mean(SCORES):.4g}"  # exact figures stay unmarked
    body = response.content.decode()
    assert "≈" + median in body and "≈ approximate" in body


def test_top_values_with_a_mobile_are_masked_for_an_anonymous_viewer(client, stats_listing, seller):
    version = stats_listing.version
    stored = QualityReport.objects.get(version=version).report
    raw_tops = [t["value"] for t in _col(stored, "contact")["stats"]["top_values"]]
    assert "13800138000" in raw_tops  # the stored report keeps the value (its seller sees it)

    anonymous = report_for_viewer(version).to_dict()
    tops = [t["value"] for t in _col(anonymous, "contact")["stats"]["top_values"]]
    assert "138****8000" in tops and "13800138000" not in tops
    assert [t["value"] for t in _col(report_for_viewer(version, organization=seller).to_dict(), "contact")["stats"]["top_values"]] == raw_tops

    body = client.get(reverse("web:listing", args=[stats_listing.pk])).content.decode()
    assert "138****8000" in body and "13800138000" not in body


def test_api_quality_report_returns_statistics_and_deductions(stats_listing, seller, buyer, actor_for):
    url = f"/api/v1/versions/{stats_listing.version.pk}/quality-report/"
    _key, secret = orgs_svc.api_key_create(actor=actor_for(seller), name="k", scopes=["read"])
    data = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}").get(url).json()

    assert round(sum(d["points"] for d in data["score_deductions"]), 2) == 100 - data["score"]
    assert {"component", "weight", "code", "reason", "points"} <= set(data["score_deductions"][0])
    score = _col(data, "score")["stats"]
    assert score["kind"] == "numeric" and score["approximate"] is False
    assert sum(score["histogram"]["counts"]) == score["count"] == 42
    assert _col(data, "contact")["stats"]["top_values"][0] == {"value": "hotline 400", "count": 23, "share": 23 / 43}
    assert data["labels"]["shares"]["pos"] == data["labels"]["distribution"]["pos"] / 43
    assert data["near_duplicate_rows"] == 0
    assert data["labels"]["near_conflicts"] == 0
