"""The CSV Dialect on the seller's dataset form and page."""

from django.urls import reverse

from exchange.models import Dataset
from tests.web.test_seller import dataset_form


def test_dataset_form_stores_a_declared_dialect_and_the_page_shows_it(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(dialect='{"delimiter": "\\t", "header": false}'))
    dataset = Dataset.objects.get()
    assert response.status_code == 302
    assert dataset.dialect == {"delimiter": "\t", "header": False}
    page = seller_client.get(reverse("web:dataset", args=[dataset.pk])).content.decode()
    assert "delimiter=&#x27;\\t&#x27;" in page and "header=False" in page


def test_empty_dialect_means_none(seller_client):
    seller_client.post(reverse("web:dataset-new"), dataset_form(dialect="  "))
    assert Dataset.objects.get().dialect == {}


def test_dialect_with_unknown_property_is_a_form_error_naming_it(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(dialect='{"encoding": "gbk"}'))
    assert response.status_code == 200
    errors = response.context["form"].errors["dialect"]
    assert errors[0].startswith("dialect.encoding: unsupported property")
    assert Dataset.objects.count() == 0


def test_dialect_that_is_not_json_is_a_form_error(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(dialect='{"delimiter": ;}'))
    assert response.context["form"].errors["dialect"][0].startswith("Invalid JSON:")
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(dialect='[";"]'))
    assert response.context["form"].errors["dialect"] == ["The dialect must be a JSON object ({…}), not a list."]
    assert Dataset.objects.count() == 0


def test_quality_panel_lists_how_the_file_was_read_apart_from_constraint_findings():
    from django.template.loader import render_to_string

    from exchange.web.present import quality_view
    from workers.quality.report import Report

    report = {"rows": 10, "columns": [], "gates": {"passed": True, "failures": []}, "encoding": "windows-1252",
              "findings": [{"code": "encoding_detected", "level": "info", "message": "read as Windows-1252: names"},
                           {"code": "line_too_long", "level": "error", "message": "line 3 is too long"},
                           {"code": "constraint_enum", "field": "Sex", "constraint": "enum", "count": 3, "rows": [4]}]}
    view = quality_view(Report.from_dict(report))
    assert [f.code for f in view["findings"]] == ["constraint_enum"]
    assert [f.code for f in view["reading_notes"]] == ["encoding_detected"]
    html = render_to_string("exchange/_quality_report.html", {"quality": view})
    assert "How the file was read" in html and "read as Windows-1252: names" in html
