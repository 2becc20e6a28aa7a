"""Lineage on the upload form in a real browser, on the demo data: the licensee picks the licensed
source in the form its script posts (XHR), hears a refusal in the page, then uploads; the form and
the derived listing fit a laptop (1366 px) and a phone (390 px) without scrolling sideways."""

from __future__ import annotations

import os
import re

import pytest
from django.core.management import call_command

from exchange import demo
from exchange.models import Dataset, Listing, VersionLineage
from tests.browser.test_catalog import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

CSV = ("clip_id,text,label\n" + "".join(f"c{i},打开空调 turn on the air conditioning {i},climate\n"
                                         for i in range(1, 31))).encode()


def _width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_licensee_uploads_a_derived_version_through_the_form(page, live_server, transactional_db, shots):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    link = VersionLineage.objects.select_related("upstream").get()
    dataset = Dataset.objects.get(pk=link.version.dataset_id)
    derived_listing = Listing.objects.get(dataset=dataset)
    log_in(page, live_server, demo.DERIVED.firm, f"/sell/datasets/{dataset.pk}/")
    widths = {}

    page.set_viewport_size({"width": 1366, "height": 900})
    fieldset = page.locator("#upload-lineage")
    assert fieldset.is_visible()
    source = page.locator("select[name=derived_from]")
    option = source.locator(f"option[value='{link.upstream_id}']")
    assert "share 15%" in option.inner_text()
    shots(page, "tidyb-upload-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    widths["upload form"] = _width(page)
    shots(page, "tidyb-upload-390")

    # a source without any step or notes: the script shows the service's refusal, nothing is stored
    before = dataset.versions.count()
    page.set_input_files("input[name=file]", files=[{"name": "clean.csv", "mimeType": "text/csv", "buffer": CSV}])
    source.select_option(str(link.upstream_id))
    page.click("form.upload-form button[type=submit]")
    error = page.locator("form.upload-form .js-upload-error")
    error.wait_for()
    assert "Choose at least one step" in error.inner_text()
    assert dataset.versions.count() == before

    page.check("input[name=lineage_steps][value=filtered]")
    page.fill("textarea[name=lineage_notes]", "kept the climate intents only")
    page.click("form.upload-form button[type=submit]")
    page.locator("ul.messages li", has_text=f"Version {before + 1} uploaded").wait_for()  # the page reloaded
    assert re.search(rf"/sell/datasets/{dataset.pk}/$", page.url)
    new = dataset.versions.order_by("-number").first()
    assert new.number == before + 1
    declared = VersionLineage.objects.get(version=new)
    assert (declared.upstream_id, declared.steps, declared.notes) == (
        link.upstream_id, ["filtered"], "kept the climate intents only")

    page.goto(f"{live_server.url}/listings/{derived_listing.pk}/")
    assert page.locator("#lineage .lineage-up a.lineage-link").is_visible()
    widths["listing"] = _width(page)
    shots(page, "tidyb-listing-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    shots(page, "tidyb-listing-1366")
    assert {name: w for name, w in widths.items() if w > 390} == {}
