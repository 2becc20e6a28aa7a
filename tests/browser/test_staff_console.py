"""The staff review console in chromium: the queue counts on the admin index, publishing and
rejecting a listing from its review page (a reason is required), verifying a firm from its page.
Every decision goes through the services: the tests read the status and the audit trail after.

Screenshots go to $SHUJIAO_SHOTS (e.g. SHUJIAO_SHOTS=/tmp, files verifier-console-*.png)."""

from __future__ import annotations

import os
import re

import pytest

from exchange.models import AuditEvent, Listing, Organization
from exchange.services import catalog
from tests.browser.layout import overflowing
from tests.factories import make_dataset, passed_version

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_PASSWORD = "x-staff-pass-2026"  # tests/conftest.py staff_actor
WIDE, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


def in_review(actor, title: str) -> Listing:
    dataset = make_dataset(actor, title=title)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    catalog.offer_create(actor=actor, listing=listing, name="Standard", price_fen=4_800_000, access_mode="approval")
    return catalog.listing_submit(actor=actor, listing=listing)


def staff_log_in(page, live_server, staff_actor, next_path: str = "/admin/") -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", staff_actor.user.username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def queue_count(page, label: str) -> int:
    row = page.locator("#staff-queues tr", has_text=label)
    return int(row.locator(".queue-count").inner_text())


def audited(action: str, obj) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_id=str(obj.pk)))


def test_staff_publish_one_listing_and_reject_another_only_with_a_reason(
        page, live_server, make_firm, actor_for, staff_actor, shots):
    seller = make_firm("合肥声智 Seller Co")
    first = in_review(actor_for(seller), "Call-centre speech 客服语音")
    second = in_review(actor_for(seller), "Shop reviews 商品评论")

    page.set_viewport_size(WIDE)
    staff_log_in(page, live_server, staff_actor)
    assert queue_count(page, "Listings in review") == 2
    shots(page, "verifier-console-index-1366")

    # The review page: the decision buttons, the offers in yuan, the quality report.
    page.click("#staff-queues a:has-text('Listings in review')")
    page.click(f"#result_list a[href*='/listing/{first.pk}/change/']")
    review = page.locator("#review")
    assert "¥48,000.00" in review.inner_text()
    assert "fen" not in review.inner_text().lower()
    assert review.locator("button[name=publish]").is_visible()
    assert page.locator("#quality").count() == 1
    shots(page, "verifier-console-listing-1366")

    page.once("dialog", lambda dialog: dialog.accept())  # "Publish this listing to the catalog?"
    page.click("button[name=publish]")
    page.wait_for_url(re.compile(rf"/admin/exchange/listing/{first.pk}/change/$"))
    assert "published" in page.locator(".messagelist .success").inner_text()
    first.refresh_from_db()
    assert first.status == Listing.Status.PUBLISHED
    [event] = audited("listing.published", first)
    assert (event.actor_type, event.actor_id) == ("staff", str(staff_actor.user.pk))

    # Rejecting: an empty reason is stopped in the form, a blank one by the service.
    page.goto(f"{live_server.url}/admin/exchange/listing/{second.pk}/change/")
    page.click("button[name=reject]")
    assert page.evaluate("document.querySelector('#reject-reason').validity.valueMissing") is True
    assert page.evaluate("document.querySelector('#reject-reason').validationMessage") != ""
    page.fill("#reject-reason", "   ")
    page.click("button[name=reject]")
    page.wait_for_load_state()
    assert page.locator(".messagelist .error").inner_text() == "A reason is required to reject a listing."
    second.refresh_from_db()
    assert second.status == Listing.Status.IN_REVIEW and not audited("listing.rejected", second)
    shots(page, "verifier-console-reject-error-1366")

    reason = "Sample rows show customers' phone numbers; declare them with a legal basis or remove them."
    page.fill("#reject-reason", reason)
    page.click("button[name=reject]")
    page.wait_for_load_state()
    assert "rejected" in page.locator(".messagelist .success").inner_text()
    second.refresh_from_db()
    assert second.status == Listing.Status.REJECTED and second.review_note == reason
    [event] = audited("listing.rejected", second)
    assert event.details["note"] == reason

    page.goto(f"{live_server.url}/admin/")
    assert queue_count(page, "Listings in review") == 0

    # The console at phone width: no sideways scrolling of the page itself.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/admin/exchange/listing/{second.pk}/change/")
    shots(page, "verifier-console-listing-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, overflowing(page, 390)


def test_staff_verify_a_firm_from_its_page_after_reading_the_credit_code_check(
        page, live_server, make_firm, staff_actor, shots):
    firm = make_firm("武汉光联 Pending Co", verified=False)

    page.set_viewport_size(WIDE)
    staff_log_in(page, live_server, staff_actor)
    assert queue_count(page, "Firms awaiting verification") == 1
    page.click("#staff-queues a:has-text('Firms awaiting verification')")
    page.click(f"#result_list a[href*='/organization/{firm.pk}/change/']")
    assert firm.credit_code in page.locator("#review").inner_text()
    assert "✓ check character valid" in page.locator(".field-credit_code_check").inner_text()
    shots(page, "verifier-console-firm-1366")

    page.once("dialog", lambda dialog: dialog.accept())  # "Verify this firm?"
    page.click("button[name=verify]")
    page.wait_for_url(re.compile(rf"/admin/exchange/organization/{firm.pk}/change/$"))
    assert "verified" in page.locator(".messagelist .success").inner_text()
    firm.refresh_from_db()
    assert firm.verification_status == Organization.Status.VERIFIED and firm.verified_at is not None
    [event] = audited("organization.verified", firm)
    assert (event.actor_type, event.actor_id) == ("staff", str(staff_actor.user.pk))
    # Verified: only Reject is left on the page.
    assert page.locator("button[name=verify]").count() == 0 and page.locator("button[name=reject]").count() == 1

    page.set_viewport_size(PHONE)
    page.reload()
    shots(page, "verifier-console-firm-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, overflowing(page, 390)
