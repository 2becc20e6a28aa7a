import gzip
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exchange.models import Dataset, DatasetVersion, Listing, Offer
from exchange.services import catalog as catalog_svc
from tests import factories

SCHEMA_JSON = json.dumps(factories.SCHEMA)


def dataset_form(**overrides):
    data = {"title": "客服语音意图 Call-centre intents", "description": "Mandarin utterances", "category": "speech",
            "kind": "labelled", "tags": "speech, 客服, intent", "schema": SCHEMA_JSON}
    data.update(overrides)
    return data


# --- Datasets ------------------------------------------------------------------

def test_dataset_create_goes_to_its_page(seller_client, seller):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form())

    dataset = Dataset.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:dataset", args=[dataset.pk])
    assert (dataset.owner, dataset.title, dataset.tags) == (seller, "客服语音意图 Call-centre intents", ["speech", "客服", "intent"])
    page = seller_client.get(reverse("web:datasets"))
    assert "客服语音意图 Call-centre intents" in page.content.decode()


def test_dataset_create_with_invalid_schema_json_names_the_problem_and_writes_nothing(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(schema='{"fields": [}'))

    assert response.status_code == 200
    assert response.context["form"].errors["schema"] == ["Invalid JSON: Expecting value at line 1, column 13."]
    assert Dataset.objects.count() == 0


def test_dataset_create_with_schema_that_is_not_an_object(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(schema="[1, 2]"))

    assert response.context["form"].errors["schema"] == ["The schema must be a JSON object ({…}), not a list."]
    assert Dataset.objects.count() == 0


def test_dataset_create_refused_by_the_service_shows_field_errors(seller_client):
    bad = json.dumps({"fields": [{"name": "id", "type": "integr"}], "labelField": "id"})

    response = seller_client.post(reverse("web:dataset-new"), dataset_form(schema=bad, contains_personal_data="on"))

    form = response.context["form"]
    assert response.status_code == 200
    assert form.non_field_errors() == ["The dataset has errors."]
    assert form.errors["schema"] == ["fields[0].type: 'integr' is not a Table Schema type"]
    assert form.errors["legal_basis"] == ["State the legal basis for processing the personal information."]
    assert Dataset.objects.count() == 0


def test_dataset_create_with_unsupported_schema_property_names_it(seller_client):
    bad = json.dumps({"fields": [{"name": "day", "type": "date", "format": "dd/mm/yyyy"}, {"name": "label"}],
                      "labelField": "label"})

    response = seller_client.post(reverse("web:dataset-new"), dataset_form(schema=bad))

    assert response.status_code == 200
    assert response.context["form"].errors["schema"] == [
        "fields[0].format: 'dd/mm/yyyy' is not 'default', 'any' or a strptime pattern"]
    assert Dataset.objects.count() == 0


def test_other_firms_dataset_page_is_404(buyer_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)

    assert buyer_client.get(reverse("web:dataset", args=[dataset.pk])).status_code == 404
    response = buyer_client.post(reverse("web:dataset", args=[dataset.pk]),
                                 {"file": SimpleUploadedFile("a.csv", factories.csv_bytes())})
    assert response.status_code == 404
    assert DatasetVersion.objects.count() == 0


# --- Uploads -------------------------------------------------------------------

def test_upload_csv_version_via_the_form(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)

    response = seller_client.post(reverse("web:dataset", args=[dataset.pk]),
                                  {"file": SimpleUploadedFile("reviews.csv", factories.csv_bytes()), "changelog": "first cut"})

    assert response.status_code == 302
    version = DatasetVersion.objects.get()
    assert (version.dataset, version.number, version.format, version.original_filename, version.changelog) == (
        dataset, 1, "csv", "reviews.csv", "first cut")
    page = seller_client.get(reverse("web:dataset", args=[dataset.pk]))
    body = page.content.decode()
    assert "reviews.csv" in body
    assert version.sha256[:12] in body
    assert reverse("web:version-status", args=[version.pk]) in body  # polled while uploaded


def test_upload_with_accept_json_answers_json(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)

    response = seller_client.post(reverse("web:dataset", args=[dataset.pk]),
                                  {"file": SimpleUploadedFile("reviews.csv", factories.csv_bytes())},
                                  headers={"accept": "application/json"})

    assert response.status_code == 201
    data = response.json()
    assert data["ok"] is True
    assert data["redirect"] == reverse("web:dataset", args=[dataset.pk])
    assert data["version"]["status"] == "uploaded"


def test_upload_empty_file_is_a_form_error_and_writes_nothing(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)

    response = seller_client.post(reverse("web:dataset", args=[dataset.pk]), {"file": SimpleUploadedFile("empty.csv", b"")})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["The submitted file is empty."]
    assert DatasetVersion.objects.count() == 0


def test_upload_empty_file_json_answer_is_400(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)

    response = seller_client.post(reverse("web:dataset", args=[dataset.pk]), {"file": SimpleUploadedFile("empty.csv", b"")},
                                  headers={"accept": "application/json"})

    assert response.status_code == 400
    assert response.json() == {"ok": False, "errors": {"file": [{"message": "The submitted file is empty.", "code": "empty"}]}}


def test_upload_parquet_content_with_csv_name_is_refused(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)

    response = seller_client.post(reverse("web:dataset", args=[dataset.pk]),
                                  {"file": SimpleUploadedFile("data.csv", factories.parquet_bytes())})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["data.csv has the extension .csv but its content is Parquet."]
    assert DatasetVersion.objects.count() == 0


def test_upload_gzip_content_with_csv_name_is_refused(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)

    response = seller_client.post(reverse("web:dataset", args=[dataset.pk]),
                                  {"file": SimpleUploadedFile("data.csv", gzip.compress(factories.csv_bytes()))})

    assert response.status_code == 200
    assert "gzip" in " ".join(response.context["form"].errors["file"])
    assert DatasetVersion.objects.count() == 0


def test_upload_over_the_size_limit_is_a_form_error(seller_client, seller_actor, settings):
    settings.MAX_UPLOAD_BYTES = 100
    dataset = factories.make_dataset(seller_actor)

    response = seller_client.post(reverse("web:dataset", args=[dataset.pk]),
                                  {"file": SimpleUploadedFile("big.csv", factories.csv_bytes(50))})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["The file is larger than the exchange's upload limit of 100 B."]
    assert DatasetVersion.objects.count() == 0


# --- Version status ------------------------------------------------------------

def test_version_status_json(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    version = factories.upload(seller_actor, dataset)
    DatasetVersion.objects.filter(pk=version.pk).update(status="checking", check_rows_seen=1200, check_bytes_seen=4096,
                                                        check_percent=42.25)

    response = seller_client.get(reverse("web:version-status", args=[version.pk]))

    assert response.status_code == 200
    assert response.json() == {"id": str(version.pk), "status": "checking", "status_label": "Checking",
                               "rows_seen": 1200, "bytes_seen": 4096, "percent": 42.2, "bar_percent": 42.2,
                               "progress_text": "42.2% of the file · 1,200 rows read",
                               "grade": None, "score": None, "passed": None, "check_error": ""}


def test_version_status_of_another_firms_version_is_404(buyer_client, seller_actor):
    version = factories.upload(seller_actor, factories.make_dataset(seller_actor))

    assert buyer_client.get(reverse("web:version-status", args=[version.pk])).status_code == 404


# --- Listings and offers -------------------------------------------------------

def test_listing_create_from_a_dataset_version(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    version = factories.passed_version(seller_actor, dataset)
    unchecked = factories.upload(seller_actor, dataset, factories.csv_bytes(30))
    url = reverse("web:listing-new") + f"?dataset={dataset.pk}"

    page = seller_client.get(url)
    assert page.status_code == 200
    # only passed versions are offered (the unchecked newer one is not)
    assert list(page.context["form"].fields["version"].queryset) == [version]
    refused = seller_client.post(url, {"version": str(unchecked.pk), "title": "", "summary": "Intents"})
    assert refused.status_code == 200 and refused.context["form"].errors["version"]
    response = seller_client.post(url, {"version": str(version.pk), "title": "", "summary": "Intents"})

    listing = Listing.objects.get()
    assert response["Location"] == reverse("web:listing-manage", args=[listing.pk])
    assert (listing.title, listing.version, listing.status) == (dataset.title, version, "draft")


def test_listing_new_with_bad_or_foreign_dataset_is_404(buyer_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)

    assert buyer_client.get(reverse("web:listing-new") + f"?dataset={dataset.pk}").status_code == 404
    assert buyer_client.get(reverse("web:listing-new") + "?dataset=not-a-uuid").status_code == 404


def _draft_listing(seller_actor):
    dataset = factories.make_dataset(seller_actor)
    return catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=factories.upload(seller_actor, dataset))


def offer_form(price):
    return {"name": "Research licence", "price": price, "access_mode": "approval", "purpose_restriction": "training only",
            "term_days": "365", "download_limit": "5"}


def test_offer_price_must_be_yuan_with_at_most_two_decimals(seller_client, seller_actor):
    listing = _draft_listing(seller_actor)
    url = reverse("web:offer-add", args=[listing.pk])

    for price, message in (("12.345", "At most 2 decimal places: the smallest amount is ¥0.01."),
                           ("-1", "The amount cannot be negative."),
                           ("abc", "“abc” is not an amount in yuan; write e.g. 19.99 or ¥1,234.50."),
                           ("1e3", "“1e3” is not an amount in yuan; write e.g. 19.99 or ¥1,234.50.")):
        response = seller_client.post(url, offer_form(price))
        assert response.status_code == 200
        assert response.context["offer_form"].errors["price"] == [message]
    assert Offer.objects.count() == 0


def test_offer_price_zero_is_refused_by_the_service(seller_client, seller_actor):
    listing = _draft_listing(seller_actor)

    response = seller_client.post(reverse("web:offer-add", args=[listing.pk]), offer_form("0"))

    assert response.context["offer_form"].errors["price"] == ["Must be at least ¥0.01."]
    assert Offer.objects.count() == 0


def test_offer_price_in_yuan_becomes_exact_fen(seller_client, seller_actor):
    listing = _draft_listing(seller_actor)

    response = seller_client.post(reverse("web:offer-add", args=[listing.pk]), offer_form("19.99"))

    assert response.status_code == 302
    offer = Offer.objects.get()
    assert (offer.price_fen, offer.access_mode, offer.purpose_restriction) == (1999, "approval", "training only")
    assert "¥19.99" in seller_client.get(reverse("web:listing-manage", args=[listing.pk])).content.decode()


def test_submit_shows_the_services_refusal(seller_client, seller_actor):
    listing = _draft_listing(seller_actor)
    seller_client.post(reverse("web:offer-add", args=[listing.pk]), offer_form("10"))

    response = seller_client.post(reverse("web:listing-submit", args=[listing.pk]), follow=True)

    body = response.content.decode()
    assert "Version 1 is still being checked (uploaded); submit once it has passed." in body
    listing.refresh_from_db()
    assert listing.status == "draft"


def test_submit_by_unverified_firm_is_refused(make_firm, actor_for):
    from tests.web.conftest import client_for

    firm = make_firm("New firm", verified=False)
    actor = actor_for(firm)
    dataset = factories.make_dataset(actor)
    listing = catalog_svc.listing_create(actor=actor, dataset=dataset, version=factories.passed_version(actor, dataset))
    catalog_svc.offer_create(actor=actor, listing=listing, name="Std", price_fen=500)

    response = client_for(firm).post(reverse("web:listing-submit", args=[listing.pk]), follow=True)

    assert "Your firm is not verified yet; only verified firms may publish listings." in response.content.decode()
    assert "pending verification by exchange staff" in response.content.decode()
    listing.refresh_from_db()
    assert listing.status == "draft"


def test_submit_then_retire(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset,
                                         version=factories.passed_version(seller_actor, dataset))
    seller_client.post(reverse("web:offer-add", args=[listing.pk]), offer_form("10"))

    seller_client.post(reverse("web:listing-submit", args=[listing.pk]))
    listing.refresh_from_db()
    assert listing.status == "in_review"

    seller_client.post(reverse("web:listing-retire", args=[listing.pk]))
    listing.refresh_from_db()
    assert listing.status == "retired"


def test_other_firms_listing_management_is_404(buyer_client, seller_actor):
    listing = _draft_listing(seller_actor)

    assert buyer_client.get(reverse("web:listing-manage", args=[listing.pk])).status_code == 404
    assert buyer_client.post(reverse("web:offer-add", args=[listing.pk]), offer_form("10")).status_code == 404
    assert buyer_client.post(reverse("web:listing-retire", args=[listing.pk])).status_code == 404
    assert Offer.objects.count() == 0
    listing.refresh_from_db()
    assert listing.status == "draft"


def test_my_listings_page_shows_status_badges(seller_client, published):
    body = seller_client.get(reverse("web:listings")).content.decode()

    assert published.title in body
    assert 'badge-published">Published<' in body


def test_an_offer_under_ten_yuan_needs_a_confirmation(seller_client, seller_actor):
    listing = _draft_listing(seller_actor)
    url = reverse("web:offer-add", args=[listing.pk])

    response = seller_client.post(url, offer_form("1.5"))
    assert response.status_code == 200
    assert response.context["offer_form"].errors["price"] == [
        "¥1.50 is under ¥10. If that is right, tick “Yes, this low price is right” and add the offer again."]
    assert Offer.objects.count() == 0

    response = seller_client.post(url, {**offer_form("1.5"), "confirm_low_price": "on"})
    assert response.status_code == 302
    assert Offer.objects.get().price_fen == 150
