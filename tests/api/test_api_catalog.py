import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from exchange.models import Dataset, DatasetVersion, Listing, Offer
from exchange.services import catalog
from exchange.services.orgs import api_key_create
from tests.factories import SCHEMA, csv_bytes, make_dataset, published_listing, upload


@pytest.fixture
def seller(make_firm, actor_for):
    org = make_firm("Seller 卖方")
    return org, actor_for(org)


@pytest.fixture
def client_for(actor_for):
    def _client(org, scopes=("read", "sell", "buy")):
        _, secret = api_key_create(actor=actor_for(org), name="test", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        return client

    return _client


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_catalog_is_public_and_lists_only_published(seller, staff_actor):
    org, actor = seller
    published = published_listing(actor, staff_actor, price_fen=1999)
    draft_ds = make_dataset(actor, title="Draft only")
    catalog.listing_create(actor=actor, dataset=draft_ds, version=upload(actor, draft_ds))
    response = APIClient().get("/api/v1/catalog/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item["id"] == str(published.pk) and item["min_price_fen"] == 1999 and item["quality_grade"] in "ABCDE"
    assert item["seller"]["name"] == "Seller 卖方"


def test_catalog_filters(seller, staff_actor):
    org, actor = seller
    published_listing(actor, staff_actor, price_fen=500)
    published_listing(actor, staff_actor, price_fen=50_000, dataset=make_dataset(actor, title="Factory yields", category="manufacturing", kind="cleaned", schema={"fields": SCHEMA["fields"]}))
    client = APIClient()
    assert client.get("/api/v1/catalog/", {"category": "manufacturing"}).json()["count"] == 1
    assert client.get("/api/v1/catalog/", {"kind": "labelled"}).json()["count"] == 1
    assert client.get("/api/v1/catalog/", {"price_max": 1000}).json()["count"] == 1
    assert client.get("/api/v1/catalog/", {"price_min": 1000}).json()["results"][0]["title"] == "Factory yields"
    assert client.get("/api/v1/catalog/", {"q": "yields"}).json()["count"] == 1
    assert client.get("/api/v1/catalog/", {"min_grade": "A", "ordering": "min_price_fen"}).json()["results"][0]["min_price_fen"] == 500
    err = assert_error(client.get("/api/v1/catalog/", {"price_min": "12.5"}), 400, "invalid_input")
    assert "price_min" in err["fields"]


def test_catalog_detail_hides_unpublished(seller):
    org, actor = seller
    dataset = make_dataset(actor)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=upload(actor, dataset))
    assert_error(APIClient().get(f"/api/v1/catalog/{listing.pk}/"), 404, "not_found")


@pytest.mark.parametrize("url", ["/api/v1/datasets/", "/api/v1/versions/", "/api/v1/listings/", "/api/v1/api-keys/", "/api/v1/organization/"])
def test_private_endpoints_need_authentication(db, url):
    err = assert_error(APIClient().get(url), 401)
    assert "credentials" in err["message"].lower()


def test_bad_api_key_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key sjk_nope_nope")
    assert_error(client.get("/api/v1/datasets/"), 401)


def test_dataset_create_upload_listing_offer_submit_via_api(seller, client_for):
    org, actor = seller
    client = client_for(org)
    r = client.post("/api/v1/datasets/", {"title": "Reviews", "category": "text", "kind": "labelled", "schema": SCHEMA}, format="json")
    assert r.status_code == 201, r.content
    ds_id = r.json()["id"]
    r = client.post(f"/api/v1/datasets/{ds_id}/versions/", {"file": SimpleUploadedFile("r.csv", csv_bytes()), "changelog": "first"}, format="multipart")
    assert r.status_code == 201, r.content
    version = r.json()
    assert version["status"] == "uploaded" and version["byte_size"] == len(csv_bytes()) and version["format"] == "csv"
    r = client.post("/api/v1/listings/", {"dataset": ds_id, "version": version["id"]}, format="json")
    assert r.status_code == 201, r.content
    listing_id = r.json()["id"]
    r = client.post(f"/api/v1/listings/{listing_id}/offers/", {"name": "Std", "price_fen": 1999, "access_mode": "instant"}, format="json")
    assert r.status_code == 201 and r.json()["price_fen"] == 1999
    err = assert_error(client.post(f"/api/v1/listings/{listing_id}/submit/"), 409, "quality_gates")
    assert "still being checked" in err["message"]


@pytest.mark.parametrize("price,fragment", [(-5, "at least ¥0.01"), (12.5, "whole number"), ("12.50", "whole number"), (10**16, "At most")])
def test_bad_price_via_api(seller, client_for, price, fragment):
    org, actor = seller
    dataset = make_dataset(actor)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=upload(actor, dataset))
    err = assert_error(client_for(org).post(f"/api/v1/listings/{listing.pk}/offers/", {"name": "x", "price_fen": price}, format="json"), 400)
    assert fragment in err["fields"]["price_fen"][0]
    assert Offer.objects.count() == 0


def test_upload_errors_via_api(seller, client_for):
    org, actor = seller
    dataset = make_dataset(actor)
    client = client_for(org)
    err = assert_error(client.post(f"/api/v1/datasets/{dataset.pk}/versions/", {"changelog": "x"}, format="multipart"), 400)
    assert "file" in err["fields"]
    err = assert_error(client.post(f"/api/v1/datasets/{dataset.pk}/versions/", {"file": SimpleUploadedFile("e.csv", b"")}, format="multipart"), 400)
    assert "empty" in err["message"]
    with override_settings(MAX_UPLOAD_BYTES=50):
        err = assert_error(client.post(f"/api/v1/datasets/{dataset.pk}/versions/", {"file": SimpleUploadedFile("r.csv", csv_bytes())}, format="multipart"), 413, "file_too_large")
    assert DatasetVersion.objects.count() == 0


def test_invalid_schema_via_api(seller, client_for):
    org, _ = seller
    err = assert_error(client_for(org).post("/api/v1/datasets/", {"title": "x", "category": "text", "kind": "cleaned", "schema": {"fields": [{"name": "a", "type": "integr"}]}}, format="json"), 400)
    assert "integr" in " ".join(err["fields"]["schema"])
    assert Dataset.objects.count() == 0


def test_unsupported_table_schema_property_is_a_400_naming_it(seller, client_for):
    org, _ = seller
    schema = {"fields": [{"name": "a", "type": "integer", "constraints": {"exclusiveMinimum": 0}},
                         {"name": "b", "type": "string", "trueValues": ["y"]}], "foreignKeys": []}
    err = assert_error(client_for(org).post("/api/v1/datasets/", {"title": "x", "category": "text", "kind": "cleaned",
                                                                   "schema": schema}, format="json"), 400)
    problems = err["fields"]["schema"]
    assert any(p.startswith("fields[0].constraints.exclusiveMinimum: not supported") for p in problems)
    assert any(p.startswith("fields[1].trueValues: applies to boolean fields only") for p in problems)
    assert any(p.startswith("foreignKeys: not supported") for p in problems)
    assert Dataset.objects.count() == 0


def test_other_firm_sees_nothing_private(seller, make_firm, client_for, actor_for):
    org, actor = seller
    dataset = make_dataset(actor)
    version = upload(actor, dataset)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=version)
    other = client_for(make_firm("Other"))
    for url in ["/api/v1/datasets/", "/api/v1/versions/", "/api/v1/listings/"]:
        assert other.get(url).json()["count"] == 0
    for url in [f"/api/v1/datasets/{dataset.pk}/", f"/api/v1/versions/{version.pk}/", f"/api/v1/listings/{listing.pk}/",
                f"/api/v1/versions/{version.pk}/quality-report/", f"/api/v1/datasets/{dataset.pk}/versions/"]:
        assert_error(other.get(url), 404)
    assert_error(other.post(f"/api/v1/datasets/{dataset.pk}/versions/", {"file": SimpleUploadedFile("r.csv", b"id\n1\n")}, format="multipart"), 404)
    assert_error(other.post(f"/api/v1/listings/{listing.pk}/offers/", {"name": "x", "price_fen": 1}, format="json"), 404)
    assert_error(other.post(f"/api/v1/listings/{listing.pk}/submit/"), 404)
    assert_error(other.patch(f"/api/v1/datasets/{dataset.pk}/", {"title": "stolen"}, format="json"), 404)
    assert DatasetVersion.objects.count() == 1 and Offer.objects.count() == 0
    assert Listing.objects.get(pk=listing.pk).status == "draft"


def test_owner_sees_own_objects(seller, client_for):
    org, actor = seller
    dataset = make_dataset(actor)
    version = upload(actor, dataset)
    client = client_for(org, scopes=("read",))
    assert client.get("/api/v1/datasets/").json()["results"][0]["id"] == str(dataset.pk)
    body = client.get(f"/api/v1/versions/{version.pk}/").json()
    assert body["progress"] == {"rows_seen": 0, "bytes_seen": 0, "percent": 0.0}
    assert client.get("/api/v1/organization/").json()["credit_code"] == org.credit_code


def test_read_only_key_cannot_write(seller, client_for):
    org, _ = seller
    err = assert_error(client_for(org, scopes=("read",)).post("/api/v1/datasets/", {"title": "x", "category": "text", "kind": "cleaned"}, format="json"), 403, "missing_scope")
    assert "sell" in err["message"]
    assert Dataset.objects.count() == 0


def test_api_keys_endpoint_creates_lists_and_revokes(seller, client_for):
    org, actor = seller
    client_for(org)
    client = APIClient()  # keys are managed from an owner's session, never with a key
    client.force_login(actor.user)
    r = client.post("/api/v1/api-keys/", {"name": "ERP", "scopes": ["read"]}, format="json")
    assert r.status_code == 201 and r.json()["key"].startswith("sjk_")
    key_id = r.json()["id"]
    listed = client.get("/api/v1/api-keys/").json()["results"]
    assert all("key" not in k for k in listed) and len(listed) == 2
    assert client.post(f"/api/v1/api-keys/{key_id}/revoke/").json()["revoked_at"] is not None
    assert_error(client.post("/api/v1/api-keys/", {"name": "ERP", "scopes": ["root"]}, format="json"), 400)


def test_session_auth_works_for_browsable_api(seller):
    org, actor = seller
    client = APIClient()
    client.force_login(actor.user)
    assert client.get("/api/v1/organization/").json()["name"] == "Seller 卖方"


def test_openapi_schema_and_docs(db):
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    doc = schema.json()
    assert doc["openapi"].startswith("3.") and "/api/v1/catalog/" in doc["paths"]
    assert "ApiKeyAuth" in doc["components"]["securitySchemes"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content and b"cdn." not in docs.content


def test_openapi_schema_generates_without_warnings(db, tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/datasets/{id}/versions/" in (tmp_path / "schema.yml").read_text()
