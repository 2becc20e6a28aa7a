"""The generated OpenAPI schema states what the server does (the schemathesis sweep checks it live;
these pin the specific mismatches an integrator reported, quickly and without a server)."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def component(schema, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def body_schema(schema, path, method, code, media="application/json") -> dict:
    return schema["paths"][path][method]["responses"][code]["content"][media]["schema"]


def test_every_4xx_of_every_operation_has_the_error_body(schema):
    count = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = [c for c in operation["responses"] if c.startswith("4")]
            assert {"401", "429"} <= set(codes), f"{method} {path}: {codes}"
            for code in codes:
                assert body_schema(schema, path, method, code)["$ref"].endswith("/ErrorOut"), (method, path, code)
                count += 1
    assert count > 200
    error = component(schema, "ErrorDetailOut")
    assert set(error["required"]) == {"code", "message", "fields"}


def test_single_object_answers_are_not_documented_as_pages(schema):
    assert body_schema(schema, "/api/v1/organization/", "get", "200")["$ref"].endswith("/OrganizationOut")
    assert body_schema(schema, "/api/v1/wallet/", "get", "200")["$ref"].endswith("/WalletOut")
    offers = body_schema(schema, "/api/v1/listings/{id}/offers/", "get", "200")
    assert offers["type"] == "array" and offers["items"]["$ref"].endswith("/OfferOut")


def test_required_fields_enums_and_bounds(schema):
    dataset = component(schema, "DatasetInRequest")
    assert {"title", "category", "kind", "schema"} <= set(dataset["required"])
    upload = schema["paths"]["/api/v1/datasets/{id}/versions/"]["post"]["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data"}
    assert "file" in component(schema, upload["multipart/form-data"]["schema"]["$ref"])["required"]
    offer = component(schema, "OfferInRequest")["properties"]
    assert (offer["price_fen"]["minimum"], offer["term_days"]["maximum"], offer["download_limit"]["maximum"]) == (1, 3650, 1000)
    assert component(schema, offer["access_mode"]["allOf"][0]["$ref"])["enum"] == ["instant", "approval"]
    scopes = component(schema, "ApiKeyInRequest")["properties"]["scopes"]
    assert scopes["minItems"] == 1
    assert component(schema, scopes["items"]["$ref"])["enum"] == ["read", "sell", "buy", "webhooks"]
    page_size = next(p for p in schema["paths"]["/api/v1/datasets/"]["get"]["parameters"] if p["name"] == "page_size")
    assert (page_size["schema"]["minimum"], page_size["schema"]["maximum"]) == (1, 200)


def test_the_download_endpoint_is_documented(schema):
    download = schema["paths"]["/d/{token}"]["get"]
    assert set(download["responses"]) >= {"200", "206", "401", "403", "404", "410", "416"}
    assert download["responses"]["200"]["content"]["application/zip"]["schema"]["format"] == "binary"
    assert {p["name"] for p in download["parameters"]} == {"token", "Range", "If-Range"}


def test_the_password_endpoints_take_no_api_key(schema):
    for path in ("/api/v1/auth/keys/", "/api/v1/auth/signup/"):
        assert schema["paths"][path]["post"].get("security") in (None, [], [{}]), path


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/versions/not.a.uuid/", "/api/v1/nothing-here/", "/d/"])
def test_unrouted_api_urls_answer_the_error_body_not_html(url):
    answer = APIClient().get(url)
    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
    assert answer.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0", "201", "abc", ""])
def test_a_bad_page_size_is_refused(value):
    answer = APIClient().get("/api/v1/catalog/", {"page_size": value})
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"] == {"page_size": ["A whole number from 1 to 200."]}


@pytest.mark.django_db
def test_a_number_where_text_belongs_is_refused(make_firm, actor_for):
    client = APIClient()
    client.force_login(make_firm().memberships.get().user)
    answer = client.post("/api/v1/datasets/", {"title": 12, "category": "text", "kind": "cleaned",
                                               "schema": {"fields": [{"name": "a"}]}}, format="json")
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"]["title"] == ["Must be a string, not a number."]
