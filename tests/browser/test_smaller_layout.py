"""Issue 15's smaller layout items in a real browser: a listing with three offers has no nested
scroll box in its side column, a wide sample table scrolls inside its card with a visible cue,
the catalog shows its results line and removable chips, and an approval asks first.
Screenshots go to $SHUJIAO_SHOTS when it is set (files smaller-*.png)."""

from __future__ import annotations

import os

import pytest

from exchange.models import Offer
from exchange.services import catalog as catalog_svc
from exchange.services import trading as trading_svc
from tests.browser.test_catalog import demo, log_in  # noqa: F401  (fixture and helper)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _seller_actor(listing, actor_for):
    return actor_for(listing.dataset.owner)


def _three_offers(listing, actor_for):
    actor = _seller_actor(listing, actor_for)
    for n, price in ((2, 480_000), (3, 4_800_000)):
        catalog_svc.offer_create(actor=actor, listing=listing, name=f"Tier {n}", price_fen=price,
                                 access_mode=Offer.AccessMode.APPROVAL, purpose_restriction="Model training only")
    assert listing.offers.filter(is_active=True).count() >= 3
    return list(listing.offers.filter(is_active=True).order_by("price_fen"))


def test_three_offers_in_the_side_column_scroll_with_the_page_not_in_a_box(
        page, live_server, demo, actor_for, shots):  # noqa: F811
    listing = demo.first()
    offers = _three_offers(listing, actor_for)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "buyer")
    page.goto(f"{live_server.url}/listings/{listing.pk}/")
    shots(page, "smaller-three-offers-1366")

    side = page.evaluate("""() => { const s = document.querySelector('.detail-side'); const cs = getComputedStyle(s);
        return {overflowY: cs.overflowY, maxHeight: cs.maxHeight, scroll: s.scrollHeight, client: s.clientHeight}; }""")
    assert side["overflowY"] == "visible" and side["maxHeight"] == "none", side
    assert side["scroll"] <= side["client"] + 1, side  # nothing hidden inside the column
    assert page.locator(".purchase-box .offer").count() == len(offers)
    last = page.locator(".purchase-box .offer").last
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    assert box is not None and 0 <= box["y"] < DESKTOP["height"], box  # reached by scrolling the page
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]


@pytest.mark.parametrize("width", [390, 1366])
def test_wide_sample_table_scrolls_inside_its_card_with_a_cue(page, live_server, demo, shots, width):  # noqa: F811
    page.set_viewport_size({"width": width, "height": 844})
    widest = None
    for listing in demo:
        page.goto(f"{live_server.url}/listings/{listing.pk}/")
        wide = page.evaluate("""() => { const w = document.querySelector('#sample .table-wrap');
            return w ? w.scrollWidth > w.clientWidth + 1 : false; }""")
        if wide:
            widest = listing
            break
    if width == 390:
        assert widest is not None, "a demo sample table is wider than a phone"
    if widest is None:  # on a desktop every sample fits: no cue is shown where nothing is hidden
        assert page.locator("#sample .scroll-hint").count() == 0
        assert "scrolls" not in (page.locator("#sample .table-wrap").get_attribute("class") or "")
        return
    shots(page, f"smaller-sample-{width}")
    wrap = page.locator("#sample .table-wrap")
    assert "scrolls" in wrap.get_attribute("class")
    hint = page.locator("#sample .scroll-hint")
    assert hint.is_visible() and "Scroll sideways" in hint.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # the table itself moves inside its card
    moved = page.evaluate("""() => { const w = document.querySelector('#sample .table-wrap');
        w.scrollLeft = 80; return w.scrollLeft; }""")
    assert moved > 0


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_catalog_results_line_chips_and_card_facts(page, live_server, demo, shots, viewport):  # noqa: F811
    page.set_viewport_size(viewport)
    listing = demo.first()
    page.goto(f"{live_server.url}/?category={listing.category}&price_min=1")
    shots(page, f"smaller-catalog-chips-{viewport['width']}")

    assert "for" in page.locator(".result-count").inner_text()
    chips = page.locator(".filter-chips .chip-filter")
    assert chips.count() == 2
    assert page.locator(".listing-card .card-facts").first.is_visible()
    facts = page.locator(".listing-card .card-facts").first.inner_text()
    for label in ("Rows", "Format", "Size", "Updated"):
        assert label.upper() in facts.upper()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.locator(".filter-chips .chip-filter", has_text="from ¥1.00").click()
    page.wait_for_load_state()
    assert "price_min" not in page.url and f"category={listing.category}" in page.url
    assert page.locator(".filter-chips .chip-filter").count() == 1

    page.goto(f"{live_server.url}/?price_min=abc")
    shots(page, f"smaller-catalog-bad-filter-{viewport['width']}")
    assert page.locator(".listing-card").count() == 0
    assert "No results shown" in page.locator(".results").inner_text()
    assert page.locator(".filters .error").first.is_visible()


def test_approve_asks_for_confirmation_without_script(chromium, live_server, demo, actor_for, shots):  # noqa: F811
    from exchange.models import Organization

    listing = demo.first()
    offer = _three_offers(listing, actor_for)[-1]  # an approval-mode offer
    buyer = Organization.objects.get(memberships__user__username="buyer")
    request = trading_svc.access_request_create(actor=actor_for(buyer), offer=offer,
                                                purpose="Training an in-car intent model for our assistant.")
    context = chromium.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        seller = listing.dataset.owner.memberships.select_related("user").first().user.username
        log_in(page, live_server, seller)
        page.goto(f"{live_server.url}/sell/requests/")
        page.locator(f"[data-request='{request.pk}'] button", has_text="Approve").click()
        page.wait_for_load_state()
        shots(page, "smaller-approve-confirm-1366")
        assert "Approve this request?" in page.locator("h1").inner_text()
        assert "¥48,000.00" in page.content()
        request.refresh_from_db()
        assert request.status == "pending"  # nothing happened yet

        page.locator("button", has_text="Yes, approve").click()
        page.wait_for_load_state()
        request.refresh_from_db()
        assert request.status == "approved"
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_rejection_failure_and_named_labels_read_plainly(
        page, live_server, demo, actor_for, staff_actor, shots, viewport):  # noqa: F811
    from exchange.models import QualityReport

    listing = demo.filter(dataset__kind="labelled").first()
    actor = actor_for(listing.dataset.owner)
    draft = catalog_svc.listing_create(actor=actor, dataset=listing.dataset, version=listing.version,
                                       title="Second listing for review")
    catalog_svc.offer_create(actor=actor, listing=draft, name="Standard", price_fen=100_000, access_mode="instant")
    catalog_svc.listing_submit(actor=actor, listing=draft)
    catalog_svc.listing_review(actor=staff_actor, listing=draft, approve=False,
                               note="The personal-data legal basis is missing.")
    stored = listing.version.quality_report
    report = dict(stored.report)
    labels = dict(report.get("labels") or {})
    labels.update(outside_set=7, outside_examples=[{"value": "unknown_intent", "count": 5}, {"value": "Navi", "count": 2}])
    QualityReport.objects.filter(pk=stored.pk).update(report={**report, "labels": labels})

    page.set_viewport_size(viewport)
    username = listing.dataset.owner.memberships.select_related("user").first().user.username
    log_in(page, live_server, username)
    page.goto(f"{live_server.url}/sell/listings/{draft.pk}/")
    shots(page, f"smaller-rejected-{viewport['width']}")
    notice = page.locator(".notice-bad")
    assert notice.is_visible() and "Rejected: The personal-data legal basis is missing." in notice.inner_text()
    color = page.evaluate("getComputedStyle(document.querySelector('.notice-bad')).color")
    assert color == "rgb(180, 35, 24)", color  # the site's red (--bad)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.goto(f"{live_server.url}/listings/{listing.pk}/#quality")
    outside = page.locator(".labels-outside")
    outside.scroll_into_view_if_needed()
    shots(page, f"smaller-labels-outside-{viewport['width']}")
    assert "“unknown_intent” 5" in outside.inner_text() and "“Navi” 2" in outside.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
