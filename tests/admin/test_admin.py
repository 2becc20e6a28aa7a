import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from exchange.models import AuditEvent, Listing, Organization
from exchange.services import catalog
from tests.factories import make_dataset, passed_version


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_superuser("boss", "boss@shujiao.example", "x-staff-pass-2026")
    client = Client()
    client.force_login(user)
    return client


def _in_review_listing(actor):
    dataset = make_dataset(actor)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    catalog.offer_create(actor=actor, listing=listing, name="Std", price_fen=100)
    return catalog.listing_submit(actor=actor, listing=listing)


@pytest.mark.parametrize("url", [
    "/admin/exchange/organization/", "/admin/exchange/membership/", "/admin/exchange/apikey/", "/admin/exchange/dataset/",
    "/admin/exchange/datasetversion/", "/admin/exchange/qualityreport/", "/admin/exchange/listing/", "/admin/exchange/offer/",
    "/admin/exchange/auditevent/", "/admin/exchange/organization/?verification_status__exact=pending",
    "/admin/exchange/listing/?status__exact=in_review",
])
def test_every_changelist_renders(staff_client, make_firm, actor_for, url):
    _in_review_listing(actor_for(make_firm()))
    assert staff_client.get(url).status_code == 200


def test_verify_firm_action_goes_through_service_and_is_audited(staff_client, make_firm):
    org = make_firm(verified=False)
    response = staff_client.post("/admin/exchange/organization/", {"action": "verify", "_selected_action": [org.pk]}, follow=True)
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.is_verified
    event = AuditEvent.objects.get(action="organization.verified")
    assert event.actor_type == "staff" and event.actor_label == "boss"


def test_reject_listing_asks_for_reason_then_rejects(staff_client, make_firm, actor_for):
    listing = _in_review_listing(actor_for(make_firm()))
    page = staff_client.post("/admin/exchange/listing/", {"action": "reject", "_selected_action": [listing.pk]})
    assert page.status_code == 200 and b"reason" in page.content
    assert Listing.objects.get(pk=listing.pk).status == "in_review"
    staff_client.post("/admin/exchange/listing/", {"action": "reject", "_selected_action": [listing.pk], "apply": "1", "reason": "Licence text unclear"})
    listing.refresh_from_db()
    assert listing.status == "rejected" and listing.review_note == "Licence text unclear"
    assert AuditEvent.objects.filter(action="listing.rejected", object_id=str(listing.pk)).count() == 1


def test_publish_action_and_refusal_message(staff_client, make_firm, actor_for):
    listing = _in_review_listing(actor_for(make_firm()))
    staff_client.post("/admin/exchange/listing/", {"action": "publish", "_selected_action": [listing.pk]})
    assert Listing.objects.get(pk=listing.pk).status == "published"
    response = staff_client.post("/admin/exchange/listing/", {"action": "publish", "_selected_action": [listing.pk]}, follow=True)
    assert b"Only a listing in review can be reviewed" in response.content


def test_listing_change_page_shows_quality_and_pii(staff_client, make_firm, actor_for):
    listing = _in_review_listing(actor_for(make_firm()))
    page = staff_client.get(f"/admin/exchange/listing/{listing.pk}/change/")
    assert page.status_code == 200 and b"Personal data found, per kind" in page.content and b"Quality gates passed" in page.content


def test_audit_viewer_is_read_only_and_verifies_chain(staff_client, make_firm):
    make_firm()
    event = AuditEvent.objects.first()
    assert staff_client.get(f"/admin/exchange/auditevent/{event.pk}/change/").status_code == 200
    assert staff_client.post(f"/admin/exchange/auditevent/{event.pk}/change/", {"action": "x"}).status_code == 403
    assert staff_client.post(f"/admin/exchange/auditevent/{event.pk}/delete/").status_code == 403
    response = staff_client.post("/admin/exchange/auditevent/", {"action": "verify_chain"}, follow=True)
    assert b"Audit chain intact" in response.content
    assert AuditEvent.objects.filter(action="audit.chain_verified").count() == 1


def test_admin_firm_edit_goes_through_the_service_and_is_audited(staff_client, make_firm):
    org = make_firm()
    data = {"name": "Renamed Ltd", "city": "Hefei", "description": "",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = staff_client.post(f"/admin/exchange/organization/{org.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert Organization.objects.get(pk=org.pk).name == "Renamed Ltd"
    event = AuditEvent.objects.get(action="organization.updated")
    assert event.details["fields"] == ["name"] and event.actor_type == "staff"
    assert not AuditEvent.objects.filter(action__startswith="admin.").exists()


def test_admin_renaming_a_firm_refreshes_its_listings_search_text(staff_client, make_firm, actor_for):
    org = make_firm()
    listing = _in_review_listing(actor_for(org))
    data = {"name": "Renamed 改名 Ltd", "city": "Hefei", "description": "",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    assert "renamed" not in Listing.objects.get(pk=listing.pk).search_text

    assert staff_client.post(f"/admin/exchange/organization/{org.pk}/change/", data).status_code == 302

    assert "renamed 改名 ltd" in Listing.objects.get(pk=listing.pk).search_text


def test_dataset_change_page_shows_versions_read_only(staff_client, make_firm, actor_for):
    listing = _in_review_listing(actor_for(make_firm()))
    page = staff_client.get(f"/admin/exchange/dataset/{listing.dataset_id}/change/")
    assert page.status_code == 200
    assert listing.version.sha256.encode() in page.content  # the version row, shown as text
    assert b'name="versions-0-sha256"' not in page.content  # not an editable field


def test_audit_verify_action_reports_a_truncated_chain(staff_client, make_firm):
    from tests.services.test_audit import _raw

    make_firm(), make_firm()
    newest = AuditEvent.objects.order_by("-seq").first().seq
    _raw("DELETE FROM exchange_auditevent WHERE seq = %s", [newest])
    response = staff_client.post("/admin/exchange/auditevent/", {"action": "verify_chain"}, follow=True)
    assert f"truncated: chain has {newest - 1} events, head says {newest}".encode() in response.content
