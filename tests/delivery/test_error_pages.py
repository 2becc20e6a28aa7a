"""Download errors answer a browser with the site's page and a way forward; API clients keep JSON."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exchange.models import DownloadLink
from tests.delivery.test_downloads import make_link

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_an_expired_link_in_a_browser_offers_a_new_link(ready_delivery, client):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    DownloadLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(path, HTTP_ACCEPT=BROWSER)

    assert response.status_code == 410 and response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "No longer available" in body and "已失效" in body and "This download link has expired" in body
    assert f'href="/deliveries/{delivery.pk}/"' in body and "Create a new link" in body
    assert "link_expired" in body  # the code, small, for support


def test_an_api_client_still_gets_json(ready_delivery, client):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    DownloadLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for accept in ("application/json", "*/*", "application/zip"):
        response = client.get(path, HTTP_ACCEPT=accept)
        assert response.status_code == 410 and response.json()["error"]["code"] == "link_expired", accept


def test_an_anonymous_browser_is_asked_to_sign_in(ready_delivery, client):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    client.logout()

    response = client.get(path, HTTP_ACCEPT=BROWSER)

    assert response.status_code == 401
    body = response.content.decode()
    assert "Please sign in" in body and "Authentication credentials were not provided" not in body
    assert f'href="/login/?next={path.replace("/", "%2F")}"' in body


def test_another_firms_link_in_a_browser_is_a_page_without_their_delivery(ready_delivery, client, make_firm):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    client.force_login(make_firm().memberships.first().user)
    response = client.get(path, HTTP_ACCEPT=BROWSER)
    assert response.status_code == 403 and "belongs to another firm" in response.content.decode()
    assert str(delivery.pk) not in response.content.decode()
