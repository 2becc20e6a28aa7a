"""After-sales through every face: REST (accept, disputes, notifications), the web pages
(accept, report a problem, dispute timeline, seller response, bell and list) and the admin's
dispute queue and decision form."""

from __future__ import annotations

import pytest
from django.test import Client

from exchange.models import Contract, Dispute, Notification
from exchange.services import ledger
from exchange.services.disputes import dispute_open
from tests.delivery.test_downloads import api_key, owner

PRICE = 10000
TEXT = "Half of the rows are empty."


@pytest.fixture
def delivered(paid_contract, build_now):
    def _make(**kwargs):
        kwargs.setdefault("acceptance_days", 3)
        contract = paid_contract(price_fen=PRICE, **kwargs)
        build_now(contract.delivery)
        contract.refresh_from_db()
        return contract
    return _make


def _client(org) -> Client:
    client = Client()
    client.force_login(owner(org))
    return client


# --- REST --------------------------------------------------------------------------------
def test_api_accept_releases_escrow_and_a_second_accept_is_409(delivered):
    contract = delivered()
    key = api_key(contract.buyer, scopes=("read", "buy"))
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    client = Client()
    detail = client.get(f"/api/v1/contracts/{contract.pk}/", **auth).json()
    assert (detail["status"], detail["acceptance_days"]) == ("delivered", 3) and detail["window_ends_at"]
    response = client.post(f"/api/v1/contracts/{contract.pk}/accept/", **auth)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["release"]) == ("settled", "accepted")
    again = client.post(f"/api/v1/contracts/{contract.pk}/accept/", **auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_acceptable"
    seller = _client(contract.seller).post(f"/api/v1/contracts/{contract.pk}/accept/")
    assert seller.status_code == 403
    assert ledger.ledger_verify() is None


def test_api_disputes_open_read_respond(delivered, make_firm):
    contract = delivered()
    buyer, seller = _client(contract.buyer), _client(contract.seller)
    bad = buyer.post("/api/v1/disputes/", {"contract": str(contract.pk), "kind": "meh", "text": TEXT},
                     content_type="application/json")
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["fields"]
    third = _client(make_firm("Third")).post("/api/v1/disputes/", {"contract": str(contract.pk), "kind": "other",
                                                                   "text": TEXT}, content_type="application/json")
    assert third.status_code == 404
    created = buyer.post("/api/v1/disputes/", {"contract": str(contract.pk), "kind": "not_as_described", "text": TEXT},
                         content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["role"], body["kind"]) == ("open", "buyer", "not_as_described")
    twice = buyer.post("/api/v1/disputes/", {"contract": str(contract.pk), "kind": "other", "text": TEXT},
                       content_type="application/json")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "dispute_open"
    assert [d["id"] for d in seller.get("/api/v1/disputes/").json()["results"]] == [body["id"]]
    assert _client(make_firm("Nosy")).get(f"/api/v1/disputes/{body['id']}/").status_code == 404
    answered = seller.post(f"/api/v1/disputes/{body['id']}/respond/", {"text": "Documented in the listing."},
                           content_type="application/json")
    assert answered.status_code == 200 and answered.json()["seller_response"] == "Documented in the listing."
    assert seller.post(f"/api/v1/disputes/{body['id']}/respond/", {"text": "Again."},
                       content_type="application/json").status_code == 409


def test_api_notifications_list_and_mark_read(delivered):
    contract = delivered()
    buyer = _client(contract.buyer)
    rows = buyer.get("/api/v1/notifications/").json()["results"]
    assert [r["event"] for r in rows] == ["delivery.ready", "access_request.approved"]  # newest first
    assert rows[0]["link"] == f"/contracts/{contract.pk}/" and rows[0]["read_at"] is None
    one = buyer.post("/api/v1/notifications/read/", {"ids": [rows[1]["id"]]}, content_type="application/json").json()
    assert one == {"marked_read": 1, "unread": 1}
    marked = buyer.post("/api/v1/notifications/read/", {}, content_type="application/json").json()
    assert marked == {"marked_read": 1, "unread": 0}
    bad = buyer.post("/api/v1/notifications/read/", {"ids": ["x"]}, content_type="application/json")
    assert bad.status_code == 400 and "ids.0" in bad.json()["error"]["fields"]


# --- Web ---------------------------------------------------------------------------------
def test_contract_page_offers_accept_and_report_to_the_buyer_only(delivered):
    contract = delivered()
    page = _client(contract.buyer).get(f"/contracts/{contract.pk}/").content.decode()
    assert "Accept delivery" in page and f"/contracts/{contract.pk}/report/" in page
    assert "3 days from delivery" in page
    seller_page = _client(contract.seller).get(f"/contracts/{contract.pk}/").content.decode()
    assert "Accept delivery" not in seller_page and "report/" not in seller_page
    delivery_page = _client(contract.buyer).get(f"/deliveries/{contract.delivery.pk}/").content.decode()
    assert f"/contracts/{contract.pk}/report/" in delivery_page
    response = _client(contract.buyer).post(f"/contracts/{contract.pk}/accept/")
    assert response.status_code == 302
    assert Contract.objects.get(pk=contract.pk).status == "settled"


def test_report_a_problem_form_errors_then_opens_the_dispute(delivered):
    contract = delivered()
    buyer = _client(contract.buyer)
    form = buyer.get(f"/contracts/{contract.pk}/report/").content.decode()
    assert "quality_below_guarantee" not in form  # this contract has no guarantee
    empty = buyer.post(f"/contracts/{contract.pk}/report/", {"kind": "other", "text": ""})
    assert empty.status_code == 400 and "Describe the problem" in empty.content.decode()
    assert Dispute.objects.count() == 0
    done = buyer.post(f"/contracts/{contract.pk}/report/", {"kind": "delivery_broken", "text": "The ZIP is corrupt."})
    dispute = Dispute.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/disputes/{dispute.pk}/"
    again = buyer.post(f"/contracts/{contract.pk}/report/", {"kind": "other", "text": "Still bad."})
    assert again.status_code == 400 and "already open" in again.content.decode()


def test_dispute_page_timeline_and_seller_response(delivered, make_firm):
    contract = delivered()
    dispute = dispute_open(actor=_actor(contract.buyer), contract_id=contract.pk, kind="other", text=TEXT)
    seller = _client(contract.seller)
    page = seller.get(f"/disputes/{dispute.pk}/").content.decode()
    assert TEXT in page and "Send response" in page
    assert "Send response" not in _client(contract.buyer).get(f"/disputes/{dispute.pk}/").content.decode()
    assert _client(make_firm("Nosy")).get(f"/disputes/{dispute.pk}/").status_code == 404
    empty = seller.post(f"/disputes/{dispute.pk}/respond/", {"text": ""})
    assert empty.status_code == 400
    assert seller.post(f"/disputes/{dispute.pk}/respond/", {"text": "It is as described."}).status_code == 302
    page = _client(contract.buyer).get(f"/disputes/{dispute.pk}/").content.decode()
    assert "Seller responded" in page and "It is as described." in page


def test_bell_shows_the_unread_count_and_the_list_marks_read(delivered):
    contract = delivered()
    buyer = _client(contract.buyer)
    header = buyer.get("/notifications/").content.decode()
    assert 'aria-label="Notifications: 2 unread"' in header and "Your delivery of" in header
    assert buyer.post("/notifications/read/").status_code == 302
    assert 'aria-label="Notifications: 0 unread"' in buyer.get("/notifications/").content.decode()
    assert Notification.objects.filter(organization=contract.buyer, read_at__isnull=True).count() == 0


def _actor(org):
    from exchange.actor import Actor

    return Actor(type="user", user=owner(org), organization=org)


# --- Admin -------------------------------------------------------------------------------
@pytest.fixture
def staff_client(staff_actor):
    client = Client()
    client.force_login(staff_actor.user)
    return client


def test_admin_queue_counts_and_partial_refund_decision(delivered, staff_client):
    contract = delivered()
    dispute = dispute_open(actor=_actor(contract.buyer), contract_id=contract.pk, kind="other", text=TEXT)
    queue = staff_client.get("/admin/exchange/dispute/").content.decode()
    assert "Open (with staff): <strong>1</strong>" in queue
    page = staff_client.get(f"/admin/exchange/dispute/{dispute.pk}/change/").content.decode()
    assert "Decide this dispute" in page and TEXT in page
    url = f"/admin/exchange/dispute/{dispute.pk}/decide/"
    missing = staff_client.post(url, {"outcome": "partial_refund", "refund": "", "reason": "Some rows bad."})
    assert missing.status_code == 400 and "Enter the amount to refund." in missing.content.decode()
    too_much = staff_client.post(url, {"outcome": "partial_refund", "refund": "100.01", "reason": "Some rows bad."},
                                 follow=True)
    assert "between ¥0.01 and the price" in too_much.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == "open"
    done = staff_client.post(url, {"outcome": "partial_refund", "refund": "25.00", "reason": "Some rows bad."})
    assert done.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.refund_fen) == ("partially_refunded", 2500)
    assert ledger.ledger_verify() is None
    assert "Decide this dispute" not in staff_client.get(f"/admin/exchange/dispute/{dispute.pk}/change/").content.decode()


def test_dispute_lists_run_the_same_queries_for_one_and_three_disputes(paid_contract, build_now, make_firm,
                                                                        staff_client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seller, buyer = make_firm("List Seller"), make_firm("List Buyer")

    def dispute_one():
        contract = paid_contract(price_fen=PRICE, acceptance_days=3, seller=seller, buyer=buyer)
        build_now(contract.delivery)
        dispute_open(actor=_actor(buyer), contract_id=contract.pk, kind="other", text=TEXT)

    dispute_one()
    pages = [(_client(buyer), "/api/v1/disputes/"), (_client(seller), "/api/v1/disputes/"),
             (staff_client, "/admin/exchange/dispute/")]
    counts = []
    for client, url in pages:
        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        counts.append(len(few.captured_queries))
    dispute_one()
    dispute_one()
    for (client, url), count in zip(pages, counts, strict=True):
        with django_assert_max_num_queries(count):
            response = client.get(url)
        assert response.status_code == 200
    assert len(_client(buyer).get("/api/v1/disputes/").json()["results"]) == 3


def test_admin_partial_refund_outside_a_dispute_asks_amount_and_reason(delivered, staff_client):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from exchange.models import AuditEvent

    contract = delivered()
    buyer_before = ledger.wallet_of(contract.buyer).balance
    post = {"action": "partial_refund", ACTION_CHECKBOX_NAME: [str(contract.pk)]}
    form = staff_client.post("/admin/exchange/contract/", post)
    assert form.status_code == 200 and "Refund to the buyer (yuan)" in form.content.decode()
    for bad in ({"amount": "", "reason": "Late rows."}, {"amount": "30", "reason": ""},
                {"amount": "１٢", "reason": "Late rows."}):
        page = staff_client.post("/admin/exchange/contract/", {**post, "apply": "1", **bad})
        assert page.status_code == 200 and "errorlist" in page.content.decode(), bad
    too_much = staff_client.post("/admin/exchange/contract/", {**post, "apply": "1", "amount": "100.01",
                                                                "reason": "Late rows."}, follow=True)
    assert Contract.objects.get(pk=contract.pk).refunded_fen == 0
    assert "A refund is between ¥0.01 and the price (¥100.00)." in too_much.content.decode()

    done = staff_client.post("/admin/exchange/contract/", {**post, "apply": "1", "amount": "３0元",
                                                            "reason": "Late rows."})
    assert done.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.refunded_fen) == ("partially_refunded", 3000)
    assert ledger.wallet_of(contract.buyer).balance == buyer_before + 3000
    assert ledger.ledger_verify() is None
    event = AuditEvent.objects.filter(action__contains="refund").latest("id")
    assert event.details["reason"] == "Late rows."
    page = staff_client.get(f"/admin/exchange/contract/{contract.pk}/change/").content.decode()
    assert "Refunded to the buyer" in page and "¥30.00" in page and "Acceptance days" in page
