from django.urls import reverse

from exchange.models import QualityReport
from exchange.services import catalog as catalog_svc
from tests import factories


def test_anonymous_sees_published_listing_with_schema_offers_and_report(client, published):
    response = client.get(reverse("web:listing", args=[published.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert [f["name"] for f in response.context["schema_fields"]] == ["id", "text", "label"]
    assert [f["name"] for f in response.context["schema_fields"] if f["primary_key"]] == ["id"]
    assert [f["name"] for f in response.context["schema_fields"] if f["label"]] == ["label"]
    assert 'class="table schema-table"' in body
    assert "¥10.00" in body
    assert "Instant" in body
    assert "Not allowed" in body  # redistribution
    assert "Quality gates passed" in body
    # null rate and label distribution; no personal data in this file: said in words, no empty PII chart
    assert body.count("<svg") == 2 and "No personal data found" in body
    assert "(outside the declared set)" in body
    assert "合肥语音科技有限公司" in body


def test_listing_page_shows_sample_rows_from_the_report(client, published):
    report = published.version.quality_report
    # Keys as a JSON column may return them (sorted), plus one the schema does not declare.
    report.report = {**report.report, "sample": [{"extra": "x", "id": "1", "label": "pos", "text": "样例文本 sample"}]}
    report.save()

    response = client.get(reverse("web:listing", args=[published.pk]))

    assert response.context["sample"] == {"columns": ["id", "text", "label", "extra"],
                                          "rows": [["1", "样例文本 sample", "pos", "x"]]}
    assert "样例文本 sample" in response.content.decode()


def test_listing_page_without_report_says_sample_comes_later(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    version = factories.upload(seller_actor, dataset)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=version)

    response = seller_client.get(reverse("web:listing", args=[listing.pk]))

    assert response.status_code == 200
    assert "Sample available after the quality check." in response.content.decode()
    assert response.context["quality"] is None


def test_report_labels_are_escaped_in_charts(client, published):
    report = published.version.quality_report
    data = dict(report.report)
    data["labels"] = {"column": "label", "distribution": {"<script>alert(1)</script>": 3}, "outside_set": 1, "missing": 2}
    QualityReport.objects.filter(pk=report.pk).update(report=data)

    body = client.get(reverse("web:listing", args=[published.pk])).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_other_firms_draft_listing_is_404(buyer_client, client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=factories.upload(seller_actor, dataset))

    assert buyer_client.get(reverse("web:listing", args=[listing.pk])).status_code == 404
    assert client.get(reverse("web:listing", args=[listing.pk])).status_code == 404


def test_owner_sees_own_draft_listing(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=factories.upload(seller_actor, dataset))

    response = seller_client.get(reverse("web:listing", args=[listing.pk]))

    assert response.status_code == 200
    assert "Only your firm sees this page" in response.content.decode()


def test_unknown_listing_renders_the_error_page(client, db):
    response = client.get("/listings/00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()
