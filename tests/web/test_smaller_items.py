"""Issue 15's smaller items, each as a person meets it on a page (client tests)."""

from __future__ import annotations

from django.urls import reverse

from exchange.models import DatasetVersion, Listing, QualityReport
from exchange.services import catalog as catalog_svc
from exchange.services import orgs as orgs_svc
from exchange.web import present
from tests import factories
from tests.workers._quality_helpers import run


def _set_report(listing, **changes):
    report = listing.version.quality_report
    QualityReport.objects.filter(pk=report.pk).update(report={**report.report, **changes})


# --- summary and description ------------------------------------------------------

def test_description_that_begins_with_the_summary_shows_only_the_rest():
    summary = "2,000 in-car utterances labelled with one of five intents."
    assert present.description_beyond_summary(summary, summary + " Speakers consented.") == "Speakers consented."
    assert present.description_beyond_summary(summary, "  " + summary.replace(" ", "\n", 1)) == ""
    assert present.description_beyond_summary(summary, "Something else entirely.") == "Something else entirely."
    assert present.description_beyond_summary("", "Only a description.") == "Only a description."


def test_listing_page_does_not_repeat_the_summary(client, published):
    summary = "Labelled product reviews from three shops."
    Listing.objects.filter(pk=published.pk).update(summary=summary)
    published.dataset.__class__.objects.filter(pk=published.dataset_id).update(
        description=summary + " Collected in 2025 with consent.")

    body = client.get(reverse("web:listing", args=[published.pk])).content.decode()
    visible = body[body.index("<body>"):]  # the JSON-LD in the head carries the description for search engines

    assert visible.count(summary) == 1
    assert "Collected in 2025 with consent." in body


# --- quality report: approximate distinct counts, failed versions, outside-set labels ------

def test_approximate_distinct_counts_carry_the_sign(client, published):
    report = published.version.quality_report.report
    columns = [dict(c) for c in report["columns"]]
    columns[0] = {**columns[0], "distinct_count": 123456, "distinct_approximate": True}
    columns[1] = {**columns[1], "distinct_count": 789, "distinct_approximate": False}
    _set_report(published, columns=columns)

    body = client.get(reverse("web:listing", args=[published.pk])).content.decode()

    assert "≈123,456" in body
    assert "≈789" not in body and ">789<" in body
    assert "approximate distinct count" in body


def test_failed_version_shows_the_failure_not_a_score_beside_grade_e(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    version = factories.passed_version(seller_actor, dataset)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=version)
    stored = version.quality_report
    QualityReport.objects.filter(pk=stored.pk).update(
        score=89, grade="E", passed=False,
        report={**stored.report, "score": 89, "grade": "E", "passed": False,
                "gates": {"passed": False, "failures": ["primary key has 3 duplicate values"]}})

    body = seller_client.get(reverse("web:listing", args=[listing.pk])).content.decode()
    quality = body[body.index('id="quality"'):]

    assert "89/100" not in body
    assert 'class="score">89<' not in quality
    assert "Quality grade E: the quality gates failed" in body
    assert "Quality gates failed" in quality and "primary key has 3 duplicate values" in quality
    assert 'class="score">Failed<' in quality

    detail = seller_client.get(reverse("web:dataset", args=[dataset.pk])).content.decode()
    assert "89/100" not in detail and "quality gates failed" in detail
    status = seller_client.get(reverse("web:version-status", args=[version.pk])).json()
    assert status["passed"] is False and status["grade"] == "E"  # the poller shows the failure


def test_labels_outside_the_declared_set_are_counted_and_named(tmp_path):
    schema = {"fields": [{"name": "text"}, {"name": "label"}], "labelField": "label", "labels": ["pos", "neg"]}
    data = "text,label\na,pos\nb,spam\nc,spam\nd,Pos\ne,neg\nf,spam\n"

    labels = run(tmp_path, data, schema)["labels"]

    assert labels["outside_set"] == 4
    assert labels["outside_examples"] == [{"value": "spam", "count": 3}, {"value": "Pos", "count": 1}]


def test_listing_page_names_the_outside_set_labels(client, published):
    _set_report(published, labels={"column": "label", "distribution": {"pos": 5, "neg": 2}, "outside_set": 4,
                                   "outside_examples": [{"value": "spam", "count": 3}], "missing": 0})

    body = client.get(reverse("web:listing", args=[published.pk])).content.decode()

    assert "Outside the declared set: 4 rows" in body
    assert "“spam”</span> 3" in body
    assert "and 1 more" in body  # rows outside the set beyond the named values


# --- upload progress ---------------------------------------------------------------

def test_progress_text_agrees_with_the_percent_and_the_rows():
    assert present.check_progress_text("checking", 1200, 42.2) == "42.2% of the file · 1,200 rows read"
    # the reader is ahead of the rows counted: never "100 %" while rows are still being counted
    assert present.check_progress_text("checking", 5000, 100.0) == "99% of the file · 5,000 rows read"
    assert present.check_progress_text("checking", 1, 0) == "1 row read"
    assert present.check_progress_text("uploaded", 0, 0) == "Queued for checking"


def test_version_status_and_page_show_the_same_progress_text(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    version = factories.upload(seller_actor, dataset)
    DatasetVersion.objects.filter(pk=version.pk).update(status="checking", check_rows_seen=12345, check_percent=100)

    data = seller_client.get(reverse("web:version-status", args=[version.pk])).json()
    page = seller_client.get(reverse("web:dataset", args=[dataset.pk])).content.decode()

    assert data["progress_text"] == "99% of the file · 12,345 rows read"
    assert data["bar_percent"] == 99.0
    assert data["progress_text"] in page
    assert 'style="width: 99.0%"' in page


def test_an_upload_refusal_is_said_once(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    bad = factories.csv_bytes()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = seller_client.post(reverse("web:dataset", args=[dataset.pk]),
                                  {"file": SimpleUploadedFile("reviews.exe", bad)}, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    messages = [e["message"] for errors in response.json()["errors"].values() for e in errors]
    assert messages and len(messages) == len(set(messages)), messages


# --- rejection notices --------------------------------------------------------------

def test_a_rejected_listing_reads_as_a_rejection(seller_client, seller_actor, staff_actor):
    dataset = factories.make_dataset(seller_actor)
    version = factories.passed_version(seller_actor, dataset)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=version)
    catalog_svc.offer_create(actor=seller_actor, listing=listing, name="Standard", price_fen=1000,
                             access_mode="instant")
    catalog_svc.listing_submit(actor=seller_actor, listing=listing)
    catalog_svc.listing_review(actor=staff_actor, listing=listing, approve=False, note="The legal basis is missing.")

    body = seller_client.get(reverse("web:listing-manage", args=[listing.pk])).content.decode()

    assert 'class="notice notice-bad"' in body
    assert "<strong>Rejected:</strong> The legal basis is missing." in body
    assert "Staff note: The legal basis is missing." not in body


def test_a_rejected_firm_reads_as_a_rejection(make_firm, staff_actor):
    firm = make_firm("被驳回公司 Rejected Co", verified=False)
    orgs_svc.organization_review(actor=staff_actor, organization=firm, approve=False, note="The licence scan is blurred.")
    from tests.web.conftest import client_for

    body = client_for(firm).get(reverse("web:firm")).content.decode()

    assert "<strong>Rejected:</strong> The licence scan is blurred." in body


# --- forms keep what was typed after an error (all but the passwords) ---------------------------

PASSWORD_NOTE = "password fields are cleared on purpose"


def test_signup_error_keeps_every_field_but_the_passwords(client, db):
    from tests.web.test_accounts import VALID_CODE, signup_data

    bad = VALID_CODE[:17] + ("0" if VALID_CODE[17] != "0" else "1")
    body = client.post(reverse("web:signup"), signup_data(credit_code=bad)).content.decode()

    for value in ("杭州安防视频有限公司", bad, "杭州 Hangzhou", "Security video", "hz-owner", "owner@example.com"):
        assert value in body, value
    assert "a-Long-enough-pass-2026" not in body
    assert PASSWORD_NOTE in body


def test_login_error_keeps_the_username_and_says_why_the_password_is_empty(client, seller):
    body = client.post(reverse("web:login"), {"username": "seller", "password": "wrong-pass-2026"}).content.decode()

    assert 'value="seller"' in body
    assert "wrong-pass-2026" not in body
    assert PASSWORD_NOTE in body


def test_api_key_form_error_keeps_name_and_scopes_and_has_no_password_note(seller_client, seller):
    from exchange.models import ApiKey

    scopes = [value for value, _ in ApiKey.Scope.choices]
    body = seller_client.post(reverse("web:api-key-create"), {
        "name": "ETL pipeline nightly", "scopes": scopes, "expires_on": "not-a-date"}).content.decode()

    assert 'value="ETL pipeline nightly"' in body
    assert body.count("checked") >= len(scopes)
    assert PASSWORD_NOTE not in body  # no password on this form


# --- favicon -------------------------------------------------------------------------

def test_pages_link_the_favicon_and_favicon_ico_answers(client, db):
    from django.contrib.staticfiles import finders

    page = client.get(reverse("web:catalog")).content.decode()
    assert '<link rel="icon" href="/static/exchange/favicon.svg" type="image/svg+xml">' in page

    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/exchange/favicon.svg"
    icon = open(finders.find("exchange/favicon.svg"), encoding="utf-8").read()
    assert icon.startswith("<svg") and "数" in icon


def test_a_service_refusal_naming_a_field_is_said_once_under_it():
    from django import forms

    from exchange.errors import InvalidInput
    from exchange.web.forms import apply_domain_error

    class UploadForm(forms.Form):
        file = forms.CharField(required=False)

    same = UploadForm(data={})
    same.is_valid()
    apply_domain_error(same, InvalidInput("The file is not CSV.", fields={"file": ["The file is not CSV."]}))
    assert same.errors == {"file": ["The file is not CSV."]}  # not on top as well

    other = UploadForm(data={})
    other.is_valid()
    apply_domain_error(other, InvalidInput("The upload has errors.", fields={"file": ["The file is not CSV."]}))
    assert other.non_field_errors() == ["The upload has errors."] and other.errors["file"] == ["The file is not CSV."]

    elsewhere = UploadForm(data={})
    elsewhere.is_valid()
    apply_domain_error(elsewhere, InvalidInput("Bad dialect.", fields={"dialect": ["Bad dialect."]}))
    assert elsewhere.non_field_errors() == ["Bad dialect."]  # a field the form lacks: on top, once
