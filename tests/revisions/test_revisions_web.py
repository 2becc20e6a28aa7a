"""Revisions on the web: the seller's publish form (only passed newer versions, form errors),
the history on the listing page, and the revision page with its diff; in-review revisions are
the seller's alone."""

from __future__ import annotations

from django.test import Client

from exchange.models import ListingRevision
from exchange.services import revisions
from tests.factories import passed_version, published_listing, upload
from tests.revisions.test_revisions import v2_bytes


def _client(org):
    c = Client()
    c.force_login(org.memberships.select_related("user").first().user)
    return c


def test_seller_publishes_from_the_web_and_buyers_see_history_and_diff(make_firm, actor_for, staff_actor):
    seller_org = make_firm("Seller")
    seller = actor_for(seller_org)
    listing = published_listing(seller, staff_actor)
    upload(seller, listing.dataset, v2_bytes(30))  # still checking: not offered
    v2 = passed_version(seller, listing.dataset, v2_bytes())
    c = _client(seller_org)
    page = c.get(f"/sell/listings/{listing.pk}/versions/")
    assert page.status_code == 200
    options = page.context["form"].fields["version"].queryset
    assert [v.number for v in options] == [v2.number]  # only passed versions newer than the listed one
    # a missing changelog is a form error, nothing written
    r = c.post(f"/sell/listings/{listing.pk}/versions/", {"version": str(v2.pk), "changelog": ""})
    assert r.status_code == 200 and r.context["form"].errors["changelog"]
    assert ListingRevision.objects.filter(listing=listing).count() == 1
    r = c.post(f"/sell/listings/{listing.pk}/versions/", {"version": str(v2.pk), "changelog": "Relabelled row 1"})
    assert r.status_code == 302
    rev = ListingRevision.objects.get(listing=listing, version=v2)
    revisions.revision_diff_compute(revision_id=str(rev.pk))
    # an anonymous visitor sees both versions in the history and the diff page
    anon = Client()
    html = anon.get(f"/listings/{listing.pk}/").content.decode()
    assert "Relabelled row 1" in html and f"/listings/{listing.pk}/revisions/{rev.pk}/" in html
    diff = anon.get(f"/listings/{listing.pk}/revisions/{rev.pk}/")
    assert diff.status_code == 200
    text = diff.content.decode()
    assert "Relabelled" in text and "Label shares" in text
    assert diff.context["diff"].rows.relabelled == 1


def test_a_revision_in_review_is_visible_only_to_its_seller(make_firm, actor_for, staff_actor):
    seller_org = make_firm("Seller")
    seller = actor_for(seller_org)
    listing = published_listing(seller, staff_actor)
    v2 = passed_version(seller, listing.dataset, b"id,text,label,source\n" + b"".join(
        f"{i},review {i},{'pos' if i % 2 else 'neg'},web\n".encode() for i in range(1, 21)))
    rev = revisions.listing_publish_version(actor=seller, listing=listing, version=v2, changelog="Adds source")
    assert rev.status == "in_review"
    url = f"/listings/{listing.pk}/revisions/{rev.pk}/"
    assert Client().get(url).status_code == 404
    assert _client(make_firm("Other")).get(url).status_code == 404
    owner = _client(seller_org)
    assert owner.get(url).status_code == 200
    assert "schema changed: source added" in owner.get(f"/listings/{listing.pk}/").content.decode()
    assert "schema changed" not in Client().get(f"/listings/{listing.pk}/").content.decode()


def test_staff_approve_a_revision_in_the_admin_through_the_service(make_firm, actor_for, staff_actor):
    from django.contrib.auth import get_user_model

    from exchange.models import AuditEvent

    seller = actor_for(make_firm("Seller"))
    listing = published_listing(seller, staff_actor)
    v2 = passed_version(seller, listing.dataset, b"id,text,label,source\n" + b"".join(
        f"{i},review {i},{'pos' if i % 2 else 'neg'},web\n".encode() for i in range(1, 21)))
    rev = revisions.listing_publish_version(actor=seller, listing=listing, version=v2, changelog="Adds source")
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("boss", "b@shujiao.example", "x-staff-pass-2026"))
    page = staff.get("/admin/exchange/listingrevision/")
    assert page.status_code == 200 and b"schema changed: source added" in page.content
    assert staff.get(f"/admin/exchange/listingrevision/{rev.pk}/change/").status_code == 200
    staff.post("/admin/exchange/listingrevision/", {"action": "approve", "_selected_action": [rev.pk]})
    listing.refresh_from_db()
    assert listing.version_id == v2.pk
    assert AuditEvent.objects.get(action="listing.revision_approved").actor_label == "boss"
