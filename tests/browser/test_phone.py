"""Phone-width (390 px) details a person notices: where the Buy button is, how tall the
signed-in header is, whether chart text can be read, and whether My requests shows the status.
Screenshots go to $SHUJIAO_SHOTS when it is set (e.g. SHUJIAO_SHOTS=/tmp, files faces-*.png)."""

from __future__ import annotations

import os

import pytest

from exchange.actor import Actor
from exchange.models import AccessRequest, Offer, Organization
from exchange.services import trading as trading_svc
from tests.browser.test_catalog import demo, log_in  # noqa: F401  (fixture and helper)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PURPOSE = "Evaluating a speech model for in-car assistants before we license more data."


def _box(page, selector):
    return page.locator(selector).first.bounding_box()


def test_listing_page_on_a_phone_puts_the_offers_right_after_the_summary(page, live_server, demo, shots):  # noqa: F811
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "buyer")
    listing = demo.filter(offers__access_mode="instant").exclude(contracts__buyer__memberships__user__username="buyer").first()
    page.goto(f"{live_server.url}/listings/{listing.pk}/")
    shots(page, "faces-listing-390")
    offers, quality, schema = _box(page, "#offers"), _box(page, "#quality"), _box(page, "#schema")
    assert offers["y"] < schema["y"] < quality["y"]  # summary, offers, then the details
    buy = _box(page, "#offers form.buy-form button")
    assert buy["y"] < 3 * PHONE["height"], buy  # within a few thumbs' scrolls, not under the whole report
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_signed_in_header_is_compact_on_a_phone(page, live_server, demo, shots):  # noqa: F811
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "hefei")
    page.goto(f"{live_server.url}/sell/listings/")
    shots(page, "faces-header-390")
    header = _box(page, "header.topbar")
    assert header["height"] <= 140, header
    assert page.locator(".account .firm-name").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_market_chart_text_is_readable_on_a_phone(page, live_server, demo, shots):  # noqa: F811
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/market/")
    shots(page, "faces-market-390")
    smallest = page.evaluate("""() => {
        let least = 1e9;
        for (const svg of document.querySelectorAll('svg.chart')) {
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            for (const t of svg.querySelectorAll('text')) {
                least = Math.min(least, parseFloat(getComputedStyle(t).fontSize) * scale);
            }
        }
        return least;
    }""")
    assert 9 <= smallest < 1e9, smallest  # rendered CSS pixels of the smallest chart text
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_my_requests_shows_the_status_on_a_phone(page, live_server, demo, shots):  # noqa: F811
    buyer = Organization.objects.get(memberships__user__username="buyer")
    owner = buyer.memberships.select_related("user").first().user
    offer = Offer.objects.filter(access_mode="approval", listing__status="published").exclude(listing__dataset__owner=buyer).first()
    trading_svc.access_request_create(actor=Actor(type="user", user=owner, organization=buyer), offer=offer, purpose=PURPOSE)
    assert AccessRequest.objects.filter(buyer=buyer, status="pending").exists()

    page.set_viewport_size(PHONE)
    log_in(page, live_server, "buyer")
    page.goto(f"{live_server.url}/buy/requests/")
    shots(page, "faces-my-requests-390")
    status = _box(page, ".requests-table td.status-cell .badge")
    assert status["x"] + status["width"] <= 390, status
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
