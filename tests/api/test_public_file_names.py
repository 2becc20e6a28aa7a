"""The original file name of a version is private to the seller and staff."""

from django.urls import reverse
from rest_framework.test import APIClient

from exchange.models import DatasetVersion
from tests.factories import published_listing

PRIVATE_NAME = "C:/Users/zhang.wei/内部 export 2026-Q3 (do not share).csv"


def _published_with_private_name(make_firm, actor_for, staff_actor):
    actor = actor_for(make_firm("Seller"))
    listing = published_listing(actor, staff_actor)
    DatasetVersion.objects.filter(pk=listing.version_id).update(original_filename=PRIVATE_NAME)
    return actor, listing


def test_public_catalog_api_never_shows_the_original_file_name(make_firm, actor_for, staff_actor):
    _, listing = _published_with_private_name(make_firm, actor_for, staff_actor)
    client = APIClient()
    for path in ("/api/v1/catalog/", f"/api/v1/catalog/{listing.pk}/"):
        response = client.get(path)
        assert response.status_code == 200
        text = response.content.decode()
        assert "original_filename" not in text and "zhang.wei" not in text and "do not share" not in text


def test_public_listing_page_never_shows_the_original_file_name(make_firm, actor_for, staff_actor, client):
    _, listing = _published_with_private_name(make_firm, actor_for, staff_actor)
    for path in ("/", reverse("web:listing", args=[listing.pk])):
        response = client.get(path)
        assert response.status_code == 200
        assert "zhang.wei" not in response.content.decode()


def test_the_seller_still_sees_its_file_name(make_firm, actor_for, staff_actor):
    actor, listing = _published_with_private_name(make_firm, actor_for, staff_actor)
    client = APIClient()
    client.force_login(actor.user)
    response = client.get(f"/api/v1/versions/{listing.version_id}/")
    assert response.status_code == 200 and response.json()["original_filename"] == PRIVATE_NAME
