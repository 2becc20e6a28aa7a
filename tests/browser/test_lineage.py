"""Lineage pages on a phone (390 px) in a real browser, on the demo data: the derived listing's
chain, both sellers' sales pages with the share, the declaration page. None scrolls sideways."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from exchange import demo
from exchange.models import Listing, VersionLineage
from tests.browser.test_catalog import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_lineage_pages_fit_a_phone(page, live_server, transactional_db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    link = VersionLineage.objects.select_related("version", "upstream").get()
    derived = Listing.objects.get(dataset_id=link.version.dataset_id)
    upstream = Listing.objects.get(dataset_id=link.upstream.dataset_id)
    page.set_viewport_size({"width": 390, "height": 844})
    widths = {}

    page.goto(f"{live_server.url}/listings/{derived.pk}/")
    widths["derived"] = page.evaluate("document.documentElement.scrollWidth")
    assert page.locator("#lineage .lineage-up a.lineage-link").get_attribute("href") == f"/listings/{upstream.pk}/"
    page.goto(f"{live_server.url}/listings/{upstream.pk}/")
    widths["upstream"] = page.evaluate("document.documentElement.scrollWidth")
    assert page.locator("#lineage .lineage-down a.lineage-link").get_attribute("href") == f"/listings/{derived.pk}/"

    log_in(page, live_server, "hefei")
    page.goto(f"{live_server.url}/sell/sales/")
    widths["hefei sales"] = page.evaluate("document.documentElement.scrollWidth")
    assert "¥427.50" in page.locator("#revenue-shares").inner_text()
    page.context.clear_cookies()

    log_in(page, live_server, demo.DERIVED.firm)
    page.goto(f"{live_server.url}/sell/sales/")
    widths["hangzhou sales"] = page.evaluate("document.documentElement.scrollWidth")
    assert "¥427.50" in page.locator(".revenue-share-paid").first.inner_text()
    page.goto(f"{live_server.url}/sell/versions/{link.version_id}/lineage/")
    widths["declaration"] = page.evaluate("document.documentElement.scrollWidth")
    assert "Lineage is fixed once declared" in page.content()
    assert {name: w for name, w in widths.items() if w > 390} == {}
