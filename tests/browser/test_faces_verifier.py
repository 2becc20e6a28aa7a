"""What a person meets in chromium: the branded error pages (404, 401, 403, an expired download
link offering a new one) at 1366 and 390 px; yuan typed the way Chinese input methods type it on
the offer form (a price under ¥10 asks for confirmation); copy buttons on the delivery page's
commands and on an API secret shown once (and plain text without JavaScript).

Screenshots go to $SHUJIAO_SHOTS (e.g. SHUJIAO_SHOTS=/tmp, files verifier-*.png)."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from exchange.models import ApiKey, DownloadLink, Offer
from exchange.services import catalog, downloads
from tests.browser.layout import overflowing
from tests.delivery.conftest import build_now, paid_contract, ready_delivery, signing_key  # noqa: F401 (fixtures)
from tests.factories import make_dataset, passed_version

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-enough-pass-2026"  # tests/conftest.py make_firm
WIDTHS = (1366, 390)


def owner(org):
    return org.memberships.select_related("user").first().user


def web_log_in(page, live_server, org) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", owner(org).username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".account .firm-name").count() == 1, page.content()[:2000]


def context(chromium, width: int, **kwargs):
    return chromium.new_context(viewport={"width": width, "height": 900 if width > 500 else 844}, locale="zh-CN",
                                **kwargs)


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, overflowing(page, width)


# --- Error pages --------------------------------------------------------------------------
def test_error_pages_are_the_sites_own_at_desktop_and_phone_widths(
        chromium, live_server, ready_delivery, make_firm, actor_for, shots):  # noqa: F811
    delivery = ready_delivery()
    buyer, stranger = delivery.contract.buyer, make_firm("别家 Other Co")
    _link, fresh_token = downloads.download_link_create(actor=actor_for(buyer), delivery_id=delivery.pk)
    expired_link, expired_token = downloads.download_link_create(actor=actor_for(buyer), delivery_id=delivery.pk)
    DownloadLink.objects.filter(pk=expired_link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    for width in WIDTHS:
        ctx = context(chromium, width)
        page = ctx.new_page()
        page.set_default_timeout(15_000)

        response = page.goto(f"{live_server.url}/no-such-page/")
        assert response.status == 404
        assert page.locator("h1").inner_text() == "Not found 页面不存在"
        assert "URLconf" not in page.content() and "Traceback" not in page.content()
        assert page.locator(".error-actions a").first.get_attribute("href") == "/"
        fits(page, width)
        shots(page, f"verifier-error-404-{width}")

        # Anonymous on a download link: a sign-in page, not "Authentication credentials were not provided."
        response = page.goto(f"{live_server.url}/d/{fresh_token}")
        assert response.status == 401
        assert page.locator("h1").inner_text() == "Please sign in 请先登录"
        assert "credentials" not in page.content()
        assert page.locator(".error-actions a", has_text="Sign in 登录").get_attribute("href") == \
            f"/login/?next=%2Fd%2F{fresh_token}"
        fits(page, width)

        # Another firm's member on the buyer's link: 403, nothing about the delivery.
        web_log_in(page, live_server, stranger)
        response = page.goto(f"{live_server.url}/d/{fresh_token}")
        assert response.status == 403
        assert page.locator("h1").inner_text() == "Not allowed 无权访问"
        assert delivery.contract.listing.title not in page.locator("main").inner_text()
        assert [a.get_attribute("href") for a in page.locator(".error-actions a").all()] == ["/deliveries/"]
        fits(page, width)
        shots(page, f"verifier-error-403-{width}")
        ctx.close()

        # The buyer on an expired link: 410 offering a new link, which downloads.
        ctx = context(chromium, width, accept_downloads=True)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        web_log_in(page, live_server, buyer)
        response = page.goto(f"{live_server.url}/d/{expired_token}")
        assert response.status == 410
        assert page.locator("h1").inner_text() == "No longer available 已失效"
        assert "link_expired" in page.locator(".error-page").inner_text()  # the code, for support, not raw JSON
        assert not page.content().lstrip().startswith("{")
        fits(page, width)
        shots(page, f"verifier-error-410-{width}")
        page.click(".error-actions a:has-text('Create a new link')")
        page.wait_for_url(re.compile(rf"/deliveries/{delivery.pk}/$"))
        with page.expect_download() as download:
            page.click("form.download-form button[type=submit]")
        assert download.value.suggested_filename.endswith(".zip")
        assert os.path.getsize(download.value.path()) == delivery.package_size
        ctx.close()


# --- Yuan on the offer form ------------------------------------------------------------------
@pytest.mark.parametrize("width", WIDTHS)
def test_offer_prices_typed_as_people_type_them(chromium, live_server, make_firm, actor_for, shots, width):
    seller = make_firm("合肥 Seller Co")
    actor = actor_for(seller)
    dataset = make_dataset(actor)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    ctx = context(chromium, width)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    web_log_in(page, live_server, seller)
    manage = f"{live_server.url}/sell/listings/{listing.pk}/"

    def add_offer(name: str, price: str, confirm: bool = False) -> None:
        page.goto(manage)
        page.fill("#id_name", name)
        page.fill("#id_price", price)
        if confirm:
            page.check("#id_confirm_low_price")
        page.click("form[action$='/offers/'] button[type=submit]")
        page.wait_for_load_state()

    for name, typed, fen in [("Full-width", "１００", 10000), ("With yuan", "100元", 10000),
                             ("Thousands", "¥1,000.50", 100050)]:
        add_offer(name, typed)
        assert Offer.objects.get(listing=listing, name=name).price_fen == fen, page.content()[:3000]
    page.goto(manage)
    table = page.locator("table").first.inner_text()
    assert "¥100.00" in table and "¥1,000.50" in table and "fen" not in table.lower()

    # ¥1.50 is probably a slip for ¥1,500: asked, not taken.
    add_offer("Cheap", "1.5")
    assert not Offer.objects.filter(listing=listing, name="Cheap").exists()
    error = page.locator(".field.has-error p.error").first.inner_text()
    assert "¥1.50 is under ¥10" in error and "fen" not in error
    assert page.input_value("#id_price") == "1.5"  # what was typed stays in the box
    fits(page, width)
    shots(page, f"verifier-yuan-confirm-{width}")
    add_offer("Cheap", "1.5", confirm=True)
    assert Offer.objects.get(listing=listing, name="Cheap").price_fen == 150

    add_offer("Nonsense", "一百")
    assert not Offer.objects.filter(listing=listing, name="Nonsense").exists()
    assert "fen" not in page.locator("form[action$='/offers/']").inner_text().lower()
    ctx.close()


# --- Copy buttons ----------------------------------------------------------------------------
def test_copy_buttons_put_the_commands_and_the_secret_on_the_clipboard(
        chromium, live_server, ready_delivery, shots):  # noqa: F811
    delivery = ready_delivery()
    buyer = delivery.contract.buyer
    ctx = context(chromium, 390)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    web_log_in(page, live_server, buyer)

    page.goto(f"{live_server.url}/deliveries/{delivery.pk}/")
    button = page.locator("button.copy-btn[aria-controls=verify-commands]")
    assert button.inner_text() == "Copy 复制"
    button.click()
    page.wait_for_function("document.querySelector('button[aria-controls=verify-commands]').dataset.copied === 'true'")
    assert button.inner_text() == "Copied 已复制"
    copied = page.evaluate("navigator.clipboard.readText()")
    commands = page.locator("#verify-commands").inner_text()
    assert copied.strip() == commands.strip()
    assert copied.strip().splitlines()[-1].startswith("python3 shujiao_verify.py ")
    fits(page, 390)
    shots(page, "verifier-copy-delivery-390")

    # The API secret shown once: copied, it works as a key.
    page.goto(f"{live_server.url}/firm/")
    page.fill("#id_name", "ETL pipeline")
    page.click("form[action$='/firm/api-keys/'] button[type=submit]")
    page.wait_for_load_state()
    page.click("button.copy-btn[aria-controls=secret]")
    page.wait_for_function("document.querySelector('button[aria-controls=secret]').dataset.copied === 'true'")
    secret = page.evaluate("navigator.clipboard.readText()").strip()
    assert secret == page.locator("#secret").inner_text().strip()
    assert ApiKey.objects.filter(organization=buyer, name="ETL pipeline").count() == 1
    api = ctx.request.get(f"{live_server.url}/api/v1/deliveries/", headers={"Authorization": f"Api-Key {secret}"})
    assert api.status == 200 and str(delivery.pk) in api.text()
    assert ctx.request.get(f"{live_server.url}/api/v1/deliveries/",
                           headers={"Authorization": f"Api-Key {secret[:-2]}xx"}).status in (401, 403)
    shots(page, "verifier-copy-secret-390")
    ctx.close()

    # Without JavaScript: no button, the commands are plain text.
    plain = context(chromium, 1366, java_script_enabled=False)
    page = plain.new_page()
    web_log_in(page, live_server, buyer)
    page.goto(f"{live_server.url}/deliveries/{delivery.pk}/")
    assert page.locator("button.copy-btn").count() == 0
    assert page.locator("#verify-commands").inner_text().strip() == commands.strip()
    plain.close()
