"""The admin is a face like the others: no raw add/change/delete, every change through a service."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from exchange.models import AuditEvent, Dataset, Listing, Membership, Organization
from exchange.services import catalog, orgs
from tests.factories import SCHEMA, make_dataset, passed_version


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_superuser("boss", "boss@shujiao.example", "x-staff-pass-2026")
    client = Client()
    client.force_login(user)
    return client


def _form(dataset, **overrides):
    data = {"title": dataset.title, "description": dataset.description, "category": dataset.category,
            "kind": dataset.kind, "tags": json.dumps(dataset.tags), "schema": json.dumps(dataset.schema),
            "legal_basis": dataset.legal_basis, "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"}
    if dataset.contains_personal_data:
        data["contains_personal_data"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("overrides, field, message", [
    ({"contains_personal_data": "on", "legal_basis": ""}, "legal_basis", "legal basis"),
    ({"schema": json.dumps({"fields": [{"name": "id", "type": "nonsense"}]}), "kind": "cleaned"}, "schema", "nonsense"),
    ({"schema": json.dumps({"fields": SCHEMA["fields"]})}, "schema", "labelField"),
])
def test_dataset_form_refuses_what_the_service_refuses(staff_client, make_firm, actor_for, overrides, field, message):
    dataset = make_dataset(actor_for(make_firm()))
    before = AuditEvent.objects.count()

    page = staff_client.post(f"/admin/exchange/dataset/{dataset.pk}/change/", _form(dataset, **overrides))

    assert page.status_code == 200  # the form again, with the error
    errors = page.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field])
    fresh = Dataset.objects.get(pk=dataset.pk)
    assert (fresh.schema, fresh.contains_personal_data, fresh.kind) == (dataset.schema, False, dataset.kind)
    assert AuditEvent.objects.count() == before


def test_dataset_form_cannot_move_a_dataset_to_another_firm(staff_client, make_firm, actor_for):
    owner, other = make_firm(), make_firm()
    dataset = make_dataset(actor_for(owner))

    response = staff_client.post(f"/admin/exchange/dataset/{dataset.pk}/change/",
                                 _form(dataset, owner=str(other.pk), title="Corrected title 更正"))

    assert response.status_code == 302
    fresh = Dataset.objects.get(pk=dataset.pk)
    assert fresh.owner_id == owner.pk and fresh.title == "Corrected title 更正"
    event = AuditEvent.objects.get(action="dataset.updated")
    assert event.actor_type == "staff" and event.details["fields"] == ["title"]


def test_dataset_form_accepts_personal_data_with_a_legal_basis(staff_client, make_firm, actor_for):
    dataset = make_dataset(actor_for(make_firm()))
    response = staff_client.post(f"/admin/exchange/dataset/{dataset.pk}/change/",
                                 _form(dataset, contains_personal_data="on", legal_basis="Consent, PIPL art. 13(1)"))
    assert response.status_code == 302
    fresh = Dataset.objects.get(pk=dataset.pk)
    assert fresh.contains_personal_data and fresh.schema["personalData"] is True


@pytest.mark.parametrize("model", ["organization", "membership", "dataset", "listing", "datasetversion", "offer", "auditevent"])
def test_no_raw_add_or_delete(staff_client, make_firm, actor_for, model):
    org = make_firm()
    dataset = make_dataset(actor_for(org))
    listing = catalog.listing_create(actor=actor_for(org), dataset=dataset, version=passed_version(actor_for(org), dataset))
    obj = {"organization": org, "membership": org.memberships.first(), "dataset": dataset, "listing": listing,
           "datasetversion": listing.version, "offer": None, "auditevent": AuditEvent.objects.first()}[model]
    assert staff_client.get(f"/admin/exchange/{model}/add/").status_code == 403
    if obj is not None:
        assert staff_client.post(f"/admin/exchange/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Organization.objects.filter(pk=org.pk).exists() and Listing.objects.filter(pk=listing.pk).exists()


def test_read_only_records_show_no_save_button(staff_client, make_firm, actor_for):
    org = make_firm()
    dataset = make_dataset(actor_for(org))
    listing = catalog.listing_create(actor=actor_for(org), dataset=dataset, version=passed_version(actor_for(org), dataset))
    for url in (f"/admin/exchange/listing/{listing.pk}/change/", f"/admin/exchange/membership/{org.memberships.first().pk}/change/",
                f"/admin/exchange/datasetversion/{listing.version.pk}/change/", f"/admin/exchange/auditevent/{AuditEvent.objects.first().pk}/change/"):
        page = staff_client.get(url)
        assert page.status_code == 200, url
        assert b'name="_save"' not in page.content and b'name="_continue"' not in page.content, url
        assert staff_client.post(url, {"title": "raw edit"}).status_code == 403, url
    # a form that goes through a service keeps its SAVE
    assert b'name="_save"' in staff_client.get(f"/admin/exchange/dataset/{dataset.pk}/change/").content


def _colleague(org, actor):
    return orgs.member_add(actor=actor, organization=org, username="colleague", email="c@firm.example", password="a-long-pass-2026!")


def test_remove_member_action_deactivates_the_login_and_is_audited(staff_client, make_firm, actor_for):
    org = make_firm()
    membership = _colleague(org, actor_for(org))

    staff_client.post("/admin/exchange/membership/", {"action": "remove", "_selected_action": [membership.pk]})

    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert get_user_model().objects.get(username="colleague").is_active is False
    event = AuditEvent.objects.get(action="member.removed")
    assert event.actor_type == "staff" and event.details == {"username": "colleague", "role": "member"}


def test_the_last_owner_can_be_neither_removed_nor_demoted(staff_client, make_firm):
    org = make_firm()
    owner = org.memberships.get()
    for action in ("remove", "make_member"):
        page = staff_client.post("/admin/exchange/membership/", {"action": action, "_selected_action": [owner.pk]}, follow=True)
        assert b"owner" in page.content
    owner.refresh_from_db()
    assert owner.role == "owner" and owner.user.is_active
    assert not AuditEvent.objects.filter(action__in=["member.removed", "member.role_changed"]).exists()


def test_an_owner_hands_over_ownership_through_the_service(make_firm, actor_for):
    org = make_firm()
    owner_actor = actor_for(org)
    founder = org.memberships.get()
    colleague = _colleague(org, owner_actor)

    orgs.member_role_set(actor=owner_actor, membership=colleague, role="owner")
    orgs.member_role_set(actor=owner_actor, membership=founder, role="member")

    assert Membership.objects.get(pk=colleague.pk).role == "owner" and Membership.objects.get(pk=founder.pk).role == "member"
    assert AuditEvent.objects.filter(action="member.role_changed").count() == 2


def test_another_firms_owner_cannot_remove_my_people(make_firm, actor_for):
    from exchange.errors import Forbidden

    mine, theirs = make_firm(), make_firm()
    colleague = _colleague(mine, actor_for(mine))
    with pytest.raises(Forbidden):
        orgs.member_remove(actor=actor_for(theirs), membership=colleague)
    assert Membership.objects.filter(pk=colleague.pk).exists()


def _in_review(actor):
    dataset = make_dataset(actor)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    catalog.offer_create(actor=actor, listing=listing, name="Std", price_fen=4_800_000)
    return catalog.listing_submit(actor=actor, listing=listing)


def test_review_page_shows_report_sample_legal_basis_and_yuan(staff_client, make_firm, actor_for):
    listing = _in_review(actor_for(make_firm()))
    page = staff_client.get(f"/admin/exchange/listing/{listing.pk}/change/").content.decode()
    assert "Quality gates passed" in page and "Sample rows" in page and "review number 1" in page
    assert "¥48,000.00" in page and "price fen" not in page.lower()
    assert "declares <b>no</b> personal data" in page
    assert 'name="publish"' in page and 'name="reject"' in page


def test_review_page_publish_button_calls_the_service(staff_client, make_firm, actor_for):
    listing = _in_review(actor_for(make_firm()))
    response = staff_client.post(f"/admin/exchange/listing/{listing.pk}/review/", {"decision": "publish"}, follow=True)
    assert "published" in response.content.decode()
    assert Listing.objects.get(pk=listing.pk).status == "published"
    assert AuditEvent.objects.get(action="listing.published").actor_type == "staff"


def test_review_page_reject_needs_a_reason(staff_client, make_firm, actor_for):
    listing = _in_review(actor_for(make_firm()))
    response = staff_client.post(f"/admin/exchange/listing/{listing.pk}/review/", {"decision": "reject", "reason": " "}, follow=True)
    assert "A reason is required" in response.content.decode()
    assert Listing.objects.get(pk=listing.pk).status == "in_review"

    staff_client.post(f"/admin/exchange/listing/{listing.pk}/review/", {"decision": "reject", "reason": "Sample shows phone numbers"})
    fresh = Listing.objects.get(pk=listing.pk)
    assert fresh.status == "rejected" and fresh.review_note == "Sample shows phone numbers"
    assert staff_client.get(f"/admin/exchange/listing/{listing.pk}/review/").status_code == 405


def test_admin_index_shows_the_queues_with_counts(staff_client, make_firm, actor_for):
    make_firm(verified=False)
    _in_review(actor_for(make_firm()))
    page = staff_client.get("/admin/").content.decode()
    assert "Work waiting" in page
    for label, count in (("Firms awaiting verification", 1), ("Listings in review", 1), ("Failed deliveries", 0)):
        at = page.index(label)
        assert f'class="queue-count">{count}</td>' in page[at:at + 400], label
    assert "/admin/exchange/listing/?status__exact=in_review" in page


def test_firm_review_page_shows_the_credit_code_check(staff_client, make_firm):
    org = make_firm(verified=False)
    page = staff_client.get(f"/admin/exchange/organization/{org.pk}/change/").content.decode()
    assert "Credit code check" in page and "check character valid" in page


def test_version_and_report_pages_render_the_quality_report(staff_client, make_firm, actor_for):
    listing = _in_review(actor_for(make_firm()))
    for url in (f"/admin/exchange/datasetversion/{listing.version.pk}/change/",
                f"/admin/exchange/qualityreport/{listing.version.quality_report.pk}/change/"):
        page = staff_client.get(url).content.decode()
        assert "Quality gates passed" in page and "Null rate per column" in page, url
        assert 'name="_save"' not in page, url


def test_audit_list_is_newest_first(staff_client, make_firm):
    make_firm(), make_firm()
    page = staff_client.get("/admin/exchange/auditevent/").content.decode()
    seqs = list(AuditEvent.objects.order_by("-seq").values_list("seq", flat=True))
    positions = [page.index(f'>{seq}</a>') for seq in seqs[:3]]
    assert positions == sorted(positions)
