"""Another firm's real id answers exactly like an id that does not exist."""

import uuid

import pytest
from rest_framework.test import APIClient

from tests.factories import make_dataset, published_listing


@pytest.fixture
def two_firms(make_firm, actor_for, staff_actor):
    mine, theirs = make_firm(), make_firm()
    their_actor = actor_for(theirs)
    listing = published_listing(their_actor, staff_actor)
    draft = make_dataset(their_actor, title="Their private dataset")
    client = APIClient()
    client.force_login(actor_for(mine).user)
    return client, {"dataset": draft.pk, "listing": listing.pk, "version": listing.version_id}


@pytest.mark.parametrize("method,template,kind", [
    ("get", "/api/v1/versions/?dataset={id}", "dataset"),
    ("get", "/api/v1/datasets/{id}/", "dataset"),
    ("patch", "/api/v1/datasets/{id}/", "dataset"),
    ("get", "/api/v1/datasets/{id}/versions/", "dataset"),
    ("get", "/api/v1/versions/{id}/", "version"),
    ("get", "/api/v1/versions/{id}/quality-report/", "version"),
    ("get", "/api/v1/listings/{id}/", "listing"),
    ("get", "/api/v1/listings/{id}/offers/", "listing"),
])
def test_another_firms_id_answers_like_an_unknown_id(two_firms, method, template, kind):
    client, ids = two_firms
    unknown = uuid.uuid4()

    def call(obj_id):
        response = getattr(client, method)(template.format(id=obj_id), {"title": "x"} if method == "patch" else None,
                                           format="json")
        return response.status_code, response.content.decode().replace(str(obj_id), "<id>")

    assert call(ids[kind]) == call(unknown)
