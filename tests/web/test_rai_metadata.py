"""The Responsible-AI declaration on every face (web form, REST, listing page) and the
schema.org JSON-LD of the listing page."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from exchange.models import AuditEvent, Dataset
from exchange.services import catalog as catalog_svc
from exchange.services.orgs import api_key_create
from tests import factories
from workers.metadata import RAI_FIELDS

pytestmark = pytest.mark.django_db
SCRIPT_RE = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def _jsonld(body: str) -> dict:
    found = SCRIPT_RE.findall(body)
    assert len(found) == 1, found
    return json.loads(found[0])


def _api(org, actor_for, scopes=("read", "sell")):
    _, secret = api_key_create(actor=actor_for(org), name="test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def _published(seller_actor, staff_actor, **dataset_fields):
    dataset = factories.make_dataset(seller_actor, **dataset_fields)
    return factories.published_listing(seller_actor, staff_actor, price_fen=12345, dataset=dataset)


# --- listing page ---------------------------------------------------------------------
def test_listing_page_embeds_schema_org_dataset_json_ld_with_public_facts(client, seller, seller_actor, staff_actor):
    listing = _published(seller_actor, staff_actor, tags=["nlp", "评论"])
    version = listing.version

    body = client.get(reverse("web:listing", args=[listing.pk])).content.decode()
    doc = _jsonld(body)

    url = f"http://testserver/listings/{listing.pk}/"
    assert (doc["@context"], doc["@type"], doc["@id"], doc["url"]) == ("https://schema.org/", "Dataset", url, url)
    assert doc["name"] == listing.title and doc["description"] == "Labelled reviews"
    assert doc["creator"] == {"@type": "Organization", "name": seller.name}
    assert doc["keywords"] == ["nlp", "评论"]
    assert doc["offers"] == {"@type": "Offer", "name": "Standard", "price": "123.45", "priceCurrency": "CNY", "url": url}
    assert [v["name"] for v in doc["variableMeasured"]] == ["id", "text", "label"]
    assert doc["distribution"] == [{"@type": "DataDownload", "encodingFormat": "text/csv", "contentUrl": url,
                                    "contentSize": f"{version.byte_size} B", "sha256": version.sha256}]
    assert doc["dateModified"] == version.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc["subjectOf"]["url"] == f"http://testserver/api/v1/catalog/{listing.pk}/croissant/"
    text = json.dumps(doc, ensure_ascii=False)
    assert seller.credit_code not in text and version.original_filename not in text
    assert "review number" not in text  # no sample rows


def test_json_ld_cannot_be_broken_out_of_by_seller_text(client, seller_actor, staff_actor):
    listing = _published(seller_actor, staff_actor, description="</script><script>alert(1)</script> & more")
    body = client.get(reverse("web:listing", args=[listing.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert _jsonld(body)["description"] == "</script><script>alert(1)</script> & more"


def test_a_draft_seen_by_its_seller_has_no_json_ld(seller_client, seller_actor):
    dataset = factories.make_dataset(seller_actor)
    version = factories.passed_version(seller_actor, dataset)
    listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=version)
    body = seller_client.get(reverse("web:listing", args=[listing.pk])).content.decode()
    assert SCRIPT_RE.findall(body) == []


def test_listing_page_shows_the_declaration_in_field_order(client, seller_actor, staff_actor):
    listing = _published(seller_actor, staff_actor, rai_data_biases="Mostly <b>urban</b> buyers",
                         rai_data_collection="Shop reviews\n\nJan–Jun 2026", rai_annotations_per_item=3)
    response = client.get(reverse("web:listing", args=[listing.pk]))
    assert [(r["label"], r["text"]) for r in response.context["rai"]] == [
        ("Data collection", "Shop reviews\n\nJan–Jun 2026"), ("Annotators per item", "3"),
        ("Known biases", "Mostly <b>urban</b> buyers")]
    body = response.content.decode()
    assert "Mostly &lt;b&gt;urban&lt;/b&gt; buyers" in body and "<b>urban</b>" not in body


def test_listing_page_without_a_declaration_says_so(client, published):
    response = client.get(reverse("web:listing", args=[published.pk]))
    assert response.context["rai"] == []
    assert "The seller has not declared how the data was collected or labelled." in response.content.decode()


# --- web form ----------------------------------------------------------------------------
def _form(**overrides):
    data = {"title": "Call-centre intents", "description": "Mandarin utterances", "category": "speech",
            "kind": "labelled", "tags": "speech", "schema": json.dumps(factories.SCHEMA)}
    data.update(overrides)
    return data


def test_dataset_form_saves_the_declaration_normalised(seller_client):
    response = seller_client.get(reverse("web:dataset-new"))
    body = response.content.decode()
    for f in RAI_FIELDS:
        assert f'name="rai_{f.attr}"' in body
    assert 'name="rai_annotations_per_item"' in body

    response = seller_client.post(reverse("web:dataset-new"), _form(
        rai_data_annotation_protocol="  Majority of three.\r\n\r\n\r\n\r\nTies to a senior\u200b reviewer.  \t",
        rai_annotations_per_item="3"))
    assert response.status_code == 302
    dataset = Dataset.objects.get()
    assert dataset.rai_data_annotation_protocol == "Majority of three.\n\nTies to a senior reviewer."
    assert dataset.rai_annotations_per_item == 3
    assert dataset.rai_data_biases == ""


def test_dataset_form_with_a_too_long_declaration_is_a_form_error_and_writes_nothing(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), _form(rai_data_annotation_platform="x" * 501))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["rai_data_annotation_platform"] == ["Annotation platform: at most 500 characters (this has 501)."]
    response = seller_client.post(reverse("web:dataset-new"), _form(rai_annotations_per_item="0"))
    assert response.status_code == 200
    assert response.context["form"].errors["rai_annotations_per_item"] == \
        ["Ensure this value is greater than or equal to 1."]
    assert Dataset.objects.count() == 0


def test_declaration_page_edits_an_existing_dataset_and_is_audited(seller_client, seller_actor, buyer_client):
    dataset = factories.make_dataset(seller_actor)
    url = reverse("web:dataset-declaration", args=[dataset.pk])
    assert buyer_client.get(url).status_code == 404  # another firm's dataset does not exist for it

    response = seller_client.post(url, {"rai_data_limitations": "No dialects.", "rai_annotations_per_item": ""})
    assert response.status_code == 302 and response["Location"] == reverse("web:dataset", args=[dataset.pk])
    dataset.refresh_from_db()
    assert dataset.rai_data_limitations == "No dialects." and dataset.rai_annotations_per_item is None
    event = AuditEvent.objects.filter(action="dataset.updated", object_id=str(dataset.pk)).get()
    assert "rai_data_limitations" in event.details["fields"]

    too_long = seller_client.post(url, {"rai_data_limitations": "y" * 2001})
    assert too_long.status_code == 200
    assert too_long.context["form"].errors["rai_data_limitations"] == \
        ["Known limitations: at most 2000 characters (this has 2001)."]
    dataset.refresh_from_db()
    assert dataset.rai_data_limitations == "No dialects."
    page = seller_client.get(reverse("web:dataset", args=[dataset.pk])).content.decode()
    assert url in page


# --- REST --------------------------------------------------------------------------------
def test_api_creates_and_updates_the_declaration(seller, actor_for):
    client = _api(seller, actor_for)
    r = client.post("/api/v1/datasets/", {"title": "Reviews", "category": "text", "kind": "labelled",
                                          "schema": factories.SCHEMA, "rai_data_use_cases": " Intent models.\r\n",
                                          "rai_annotations_per_item": 2}, format="json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert (out["rai_data_use_cases"], out["rai_annotations_per_item"], out["rai_data_biases"]) == \
        ("Intent models.", 2, "")

    r = client.patch(f"/api/v1/datasets/{out['id']}/", {"rai_data_biases": "Urban", "rai_annotations_per_item": None},
                     format="json")
    assert r.status_code == 200, r.content
    assert (r.json()["rai_data_biases"], r.json()["rai_annotations_per_item"], r.json()["rai_data_use_cases"]) == \
        ("Urban", None, "Intent models.")


@pytest.mark.parametrize(("body", "field", "fragment"), [
    ({"rai_data_biases": "z" * 2001}, "rai_data_biases", "at most 2000 characters (this has 2001)"),
    ({"rai_annotations_per_item": 0}, "rai_annotations_per_item", "between 1 and 100 (got 0)"),
    ({"rai_annotations_per_item": 101}, "rai_annotations_per_item", "between 1 and 100 (got 101)"),
    ({"rai_annotations_per_item": 2.5}, "rai_annotations_per_item", "whole number"),
    ({"rai_annotations_per_item": True}, "rai_annotations_per_item", "integer"),
    ({"rai_data_collection": ["a"]}, "rai_data_collection", "Must be a string"),
])
def test_api_refuses_a_bad_declaration_naming_the_field_and_writes_nothing(seller, actor_for, body, field, fragment):
    client = _api(seller, actor_for)
    r = client.post("/api/v1/datasets/", {"title": "Reviews", "category": "text", "kind": "labelled",
                                          "schema": factories.SCHEMA, **body}, format="json")
    assert r.status_code == 400, r.content
    messages = r.json()["error"]["fields"][field]
    assert any(fragment in m for m in messages), messages
    assert Dataset.objects.count() == 0


def test_public_catalog_entry_shows_the_declaration(client, seller_actor, staff_actor):
    listing = _published(seller_actor, staff_actor, rai_data_biases="Urban")
    r = client.get(f"/api/v1/catalog/{listing.pk}/")
    assert r.status_code == 200
    assert r.json()["dataset"]["rai_data_biases"] == "Urban"


# --- admin -------------------------------------------------------------------------------
@pytest.fixture
def staff_client(db):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@shujiao.example", "x-staff-pass-2026"))
    return client


def test_staff_edits_of_the_declaration_are_normalised_and_bounded(seller_actor, staff_client):
    """The admin saves through dataset_update: the seller's own normalisation and limits apply."""
    dataset = factories.make_dataset(seller_actor, rai_annotator_demographics="Zhang San, 13800000000")
    url = f"/admin/exchange/dataset/{dataset.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert "Responsible-AI declaration (Croissant RAI)" in page and "Zhang San" in page

    form = {"title": dataset.title, "description": dataset.description, "category": dataset.category,
            "kind": dataset.kind, "tags": json.dumps(dataset.tags), "schema": json.dumps(dataset.schema),
            "legal_basis": "", "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
            "rai_annotator_demographics": "  12 annotators,\r\nnative speakers \u200b "}
    too_long = staff_client.post(url, {**form, "rai_data_biases": "b" * 2001})
    assert too_long.status_code == 200
    assert too_long.context["adminform"].form.errors["rai_data_biases"] == \
        ["Known biases: at most 2000 characters (this has 2001)."]
    dataset.refresh_from_db()
    assert dataset.rai_annotator_demographics == "Zhang San, 13800000000"

    assert staff_client.post(url, form).status_code == 302
    dataset.refresh_from_db()
    assert dataset.rai_annotator_demographics == "12 annotators,\nnative speakers"
    event = AuditEvent.objects.filter(action="dataset.updated", object_id=str(dataset.pk)).latest("seq")
    assert event.actor_type == "staff" and "rai_annotator_demographics" in event.details["fields"]


def test_public_croissant_and_listing_page_queries_do_not_grow_with_offers(client, seller_actor, staff_actor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def listing_with(offers: int):
        dataset = factories.make_dataset(seller_actor, rai_data_biases="Urban")
        listing = catalog_svc.listing_create(actor=seller_actor, dataset=dataset,
                                             version=factories.passed_version(seller_actor, dataset))
        for n in range(offers):
            catalog_svc.offer_create(actor=seller_actor, listing=listing, name=f"Tier {n}", price_fen=100 + n,
                                     access_mode="instant")
        catalog_svc.listing_submit(actor=seller_actor, listing=listing)
        return catalog_svc.listing_review(actor=staff_actor, listing=listing, approve=True)

    def counts(listing):
        client.get(f"/api/v1/catalog/{listing.pk}/croissant/")  # warm: sessions, content types
        with CaptureQueriesContext(connection) as api:
            assert client.get(f"/api/v1/catalog/{listing.pk}/croissant/").status_code == 200
        with CaptureQueriesContext(connection) as page:
            assert client.get(reverse("web:listing", args=[listing.pk])).status_code == 200
        return len(api), len(page)

    one, five = listing_with(1), listing_with(5)
    assert counts(one) == counts(five)
    doc = client.get(f"/api/v1/catalog/{five.pk}/croissant/").json()
    assert doc["rai:dataBiases"] == "Urban"
    page = client.get(reverse("web:listing", args=[five.pk])).content.decode()
    assert [o["price"] for o in _jsonld(page)["offers"]] == ["1.00", "1.01", "1.02", "1.03", "1.04"]


def test_public_croissant_carries_the_reports_label_statistics_and_personal_data_check(client, seller_actor,
                                                                                       staff_actor):
    listing = _published(seller_actor, staff_actor)
    doc = client.get(f"/api/v1/catalog/{listing.pk}/croissant/").json()
    stats = next(rs for rs in doc["recordSet"] if rs["@id"] == "label_statistics")
    assert [(r["label_statistics/label"], r["label_statistics/rows"]) for r in stats["data"]] == [("pos", 14), ("neg", 6)]
    assert doc["rai:dataAnnotationAnalysis"].startswith(
        "Label column 'label' in the exchange's quality check of version 1 (20 rows): 'pos': 14 rows (70.0%)")
    assert doc["rai:personalSensitiveInformation"] == (
        "The exchange's quality check of version 1 found no mainland mobile numbers, e-mail addresses, "
        "resident identity numbers or bank card numbers.")
