"""The demo subscriber's pages in a real browser at phone width: the listing says what the
subscription covers, and the update's delivery page lists both deliveries with their versions."""

from __future__ import annotations

import os

import pytest

from exchange.models import Delivery, Offer
from tests.browser.test_catalog import demo, log_in  # noqa: F401  (fixture and helper)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_subscriber_sees_both_versions_on_a_phone(page, live_server, demo, shots):  # noqa: F811
    offer = Offer.objects.select_related("listing").get(kind="subscription")
    update = Delivery.objects.get(contract__offer=offer, initial=False)
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "wuhan")
    page.goto(f"{live_server.url}/listings/{offer.listing.pk}/")
    box = page.locator(f"#offer-{offer.pk}")
    assert "Subscription" in box.inner_text() and "every new version the seller publishes" in box.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/deliveries/{update.pk}/")
    shots(page, "faces-subscription-update-390")
    text = page.locator("main").inner_text()
    assert "v2" in text and "from v1" in text and "metadata/diff.json" in text
    assert "Deliveries of this contract" in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/deliveries/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
