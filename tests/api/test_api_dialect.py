"""The CSV Dialect through the REST API."""

from exchange.models import Dataset
from tests.api.test_api_catalog import assert_error, client_for, seller  # noqa: F401 - fixtures
from tests.factories import SCHEMA

BODY = {"title": "x", "category": "text", "kind": "labelled", "schema": SCHEMA}


def test_dialect_is_accepted_and_returned(seller, client_for):  # noqa: F811
    org, _ = seller
    resp = client_for(org).post("/api/v1/datasets/", {**BODY, "dialect": {"delimiter": "|", "headerRows": [2]}},
                                format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["dialect"] == {"delimiter": "|", "headerRows": [2]}
    assert Dataset.objects.get().dialect == {"delimiter": "|", "headerRows": [2]}


def test_unknown_dialect_property_is_a_400_naming_it(seller, client_for):  # noqa: F811
    org, _ = seller
    err = assert_error(client_for(org).post("/api/v1/datasets/", {**BODY, "dialect": {"delimter": ";"}},
                                            format="json"), 400)
    assert err["fields"]["dialect"][0].startswith("dialect.delimter: unsupported property (supported: delimiter,")
    assert Dataset.objects.count() == 0


def test_dialect_patch_is_validated(seller, client_for):  # noqa: F811
    org, _ = seller
    client = client_for(org)
    pk = client.post("/api/v1/datasets/", BODY, format="json").json()["id"]
    err = assert_error(client.patch(f"/api/v1/datasets/{pk}/", {"dialect": {"skipInitialSpace": "yes"}},
                                    format="json"), 400)
    assert err["fields"]["dialect"] == ["dialect.skipInitialSpace must be true or false"]
    assert Dataset.objects.get(pk=pk).dialect == {}
