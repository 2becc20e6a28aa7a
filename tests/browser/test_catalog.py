"""The buyer's first steps in a real browser: catalog, log in, a dataset page and its schema."""

from __future__ import annotations

import os
import re

import pytest
from django.core.management import call_command

from exchange.models import Dataset, Listing

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "shujiao-demo-2026"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return Listing.objects.filter(status=Listing.Status.PUBLISHED).select_related("dataset").order_by("title")


def log_in(page, live_server, username: str, next_path: str = "/") -> None:
    page.goto(f"{live_server.url}/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()


def test_buyer_browses_catalog_logs_in_and_reads_a_schema(page, live_server, demo, shots):
    published = list(demo)
    assert len(published) >= 3

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    shots(page, "catalog-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/")
    assert page.locator("article.listing-card").count() == len(published)
    assert page.locator(".listing-card .price").first.inner_text().startswith("¥")
    shots(page, "catalog")

    log_in(page, live_server, "buyer")
    assert "北京智算数据应用有限公司" in page.locator(".account .firm-name").inner_text()

    listing = published[0]
    page.click(f"article.listing-card h2 a[href='/listings/{listing.pk}/']")
    page.wait_for_url(re.compile(rf"/listings/{listing.pk}/$"))
    assert page.locator("h1").first.inner_text() == listing.title
    rows = page.locator("table.schema-table tbody tr")
    field_names = [f["name"] for f in listing.dataset.schema["fields"]]
    assert rows.count() == len(field_names)
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())] == field_names
    # nulls; labels for labelled data; personal data only when some was found (else a sentence, no chart)
    pii = listing.version.quality_report.report.get("pii") or {}
    found = sum(int(pii.get(k) or 0) for k in ("mobile", "email", "resident_id", "bank_card"))
    assert page.locator("#quality svg.chart").count() == 1 + (listing.dataset.kind == "labelled") + (found > 0)
    assert page.locator("#quality .no-pii").count() == (0 if found else 1)
    shots(page, "listing")


def test_seller_sees_dataset_versions_and_firm_settings(page, live_server, demo, shots):
    dataset = Dataset.objects.filter(owner__memberships__user__username="hefei").first()

    log_in(page, live_server, "hefei", f"/sell/datasets/{dataset.pk}/")

    assert page.locator("h1").first.inner_text() == dataset.title
    assert page.locator("table.versions-table tbody tr").count() == dataset.versions.count()
    assert page.locator("table.versions-table .badge-passed").count() >= 1
    shots(page, "seller-dataset")

    listing = dataset.listings.get()
    page.goto(f"{live_server.url}/listings/{listing.pk}/")
    assert page.locator("#quality svg.chart").count() == 2  # nulls, labels; the demo file has no personal data:
    assert page.locator("#quality .no-pii").inner_text().startswith("No personal data found")  # said, not charted
    shots(page, "listing-labelled")

    page.goto(live_server.url + "/firm/")
    page.fill("input[name=name]", "Nightly export")
    page.check("input[name=scopes][value=sell]")
    page.click("#api-keys button[type=submit]")
    secret = page.locator("pre.secret").inner_text()
    assert secret.startswith("sjk_")
    page.click("text=Done — back to firm settings")
    assert "Nightly export" in page.locator("table").last.inner_text()
    assert secret not in page.content()
    shots(page, "firm")


def test_upload_progress_and_live_check_status(page, live_server, demo, shots, tmp_path):
    from exchange.models import DatasetVersion

    dataset = Dataset.objects.filter(owner__memberships__user__username="wuhan").first()
    before = dataset.versions.count()
    data = tmp_path / "modules-v2.csv"
    data.write_text("serial_no,product\nWH1,100G LR4\nWH2,400G DR4\n", encoding="utf-8")

    log_in(page, live_server, "wuhan", f"/sell/datasets/{dataset.pk}/")
    page.set_input_files("input[name=file]", str(data))
    page.fill("textarea[name=changelog]", "第二版 second cut")
    page.click("form[data-upload] button[type=submit]")
    page.wait_for_selector(".msg-success")  # the XHR answered JSON and the page reloaded

    version = dataset.versions.order_by("-number").first()
    assert dataset.versions.count() == before + 1
    row = page.locator(f"tr[data-version='{version.pk}']")
    assert "modules-v2.csv" in row.inner_text()

    DatasetVersion.objects.filter(pk=version.pk).update(status="checking", check_percent=40, check_rows_seen=1)
    page.wait_for_function(f"document.querySelector(\"tr[data-version='{version.pk}'] .progress-bar\").style.width === '40%'")
    assert row.locator(".badge").first.inner_text() == "Checking"
    shots(page, "seller-upload-checking")

    DatasetVersion.objects.filter(pk=version.pk).update(status="failed", check_percent=100, check_error="schema mismatch")
    page.wait_for_function(f"document.querySelector(\"tr[data-version='{version.pk}'] .js-status .badge\").textContent === 'Failed'")
    assert row.locator(".js-error").inner_text() == "schema mismatch"


@pytest.mark.parametrize("width", [1366, 390])
def test_public_pages_never_scroll_sideways(page, live_server, demo, width):
    """Wide tables (statistics, score breakdown, constraints) scroll inside their own box;
    the page itself stays as wide as the screen, on a desktop and on a phone."""
    page.set_viewport_size({"width": width, "height": 900})
    paths = ["/", "/market/", *[f"/listings/{listing.pk}/" for listing in demo]]
    widths, with_breakdown = {}, 0
    for path in paths:
        page.goto(live_server.url + path)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
        with_breakdown += page.locator("h3", has_text="Score breakdown").count()
    assert with_breakdown >= 1  # the wide tables were on the pages measured
    assert {p: w for p, w in widths.items() if w > width} == {}


@pytest.mark.parametrize("username", ["buyer", "hefei"])
def test_signed_in_pages_never_scroll_sideways_on_a_phone(page, live_server, demo, username):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, username)
    widths = {}
    for path in ["/", "/firm/", "/firm/webhooks/", "/sell/datasets/", "/sell/listings/", "/deliveries/", "/market/"]:
        page.goto(live_server.url + path)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
    assert page.locator(".account .firm-name").count() == 1  # really signed in
    assert {p: w for p, w in widths.items() if w > 390} == {}
