"""The personal-data chart on the listing and quality pages draws a bar only for the kinds found,
and says "No personal data found" in words when there is none (it once drew four empty bars)."""

from __future__ import annotations

import copy

from django.urls import reverse

from exchange.models import QualityReport
from tests.web.test_quality_report_typed import EARLY_REPORT


def _pii_figure(body: str) -> str:
    """The personal-data figure of a rendered page."""
    start = body.index("<figcaption>Personal data found, per kind</figcaption>")
    return body[start:body.index("</figure>", start)]


def _listing_with_pii(published, **counts) -> None:
    report = copy.deepcopy(EARLY_REPORT)
    report["pii"] = {"mobile": 0, "email": 0, "resident_id": 0, "bank_card": 0, **counts,
                     "by_column": {"text": counts} if counts else {}, "examples": []}
    QualityReport.objects.filter(version=published.version).update(report=report)


def test_only_the_kinds_found_get_a_bar(client, published):
    # given a report with mobile numbers and bank cards, no e-mail or resident id
    _listing_with_pii(published, mobile=3, bank_card=1)
    # when anyone opens the listing
    response = client.get(reverse("web:listing", args=[published.pk]))
    # then the chart has two bars, named, and none for the kinds not found
    figure = _pii_figure(response.content.decode())
    assert figure.count('class="chart-row"') == 2
    assert "Mobile numbers" in figure and "Bank card numbers" in figure
    assert "E-mail addresses" not in figure and "Resident ID numbers" not in figure
    assert "No personal data found" not in figure
    assert response.context["quality"]["pii_total"] == 4


def test_no_personal_data_is_said_in_words_without_a_chart(client, published):
    _listing_with_pii(published)
    response = client.get(reverse("web:listing", args=[published.pk]))
    figure = _pii_figure(response.content.decode())
    assert "No personal data found" in figure
    assert "<svg" not in figure and 'class="chart-row"' not in figure
    assert response.context["quality"]["pii_chart"] is None and response.context["quality"]["pii_total"] == 0


def test_the_staff_quality_page_uses_the_same_rule(admin_client, published):
    _listing_with_pii(published)
    page = admin_client.get(reverse("admin:exchange_listing_change", args=[published.pk]))
    assert page.status_code == 200
    assert "No personal data found" in _pii_figure(page.content.decode())
