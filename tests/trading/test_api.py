"""Trading API: permissions (anonymous, other firm, wrong scope, owner), idempotency, wallet, stats."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from exchange.models import AccessRequest, Contract, IdempotencyRecord, LedgerTransfer
from exchange.services import escrow
from exchange.services import trading as svc
from exchange.services.orgs import api_key_create
from tests.trading.conftest import PURPOSE

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(actor_for):
    def _client(org, scopes=("read", "sell", "buy")):
        _, secret = api_key_create(actor=actor_for(org), name="test", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        return client

    return _client


def error_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    err = response.json()["error"]
    assert set(err) == {"code", "message", "fields"} and err["message"]
    if code:
        assert err["code"] == code
    return err


def test_anonymous_is_refused_everywhere_but_market_stats(db):
    client = APIClient()
    for url in ("/api/v1/access-requests/", "/api/v1/contracts/", "/api/v1/wallet/", "/api/v1/wallet/entries/"):
        error_of(client.get(url), 401)
    error_of(client.post("/api/v1/access-requests/", {"offer": "x", "purpose": PURPOSE}), 401)
    assert client.get("/api/v1/market/stats/").status_code == 200
    assert AccessRequest.objects.count() == 0


def test_buy_instant_offer_through_api(make_firm, make_offer, fund, client_for):
    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    offer = make_offer(seller, price_fen=1500)
    fund(buyer, 2000)

    r = client_for(buyer).post("/api/v1/access-requests/", {"offer": str(offer.pk), "purpose": PURPOSE}, format="json")

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "approved"
    assert body["contract"]["status"] == "paid"
    assert body["contract"]["price_fen"] == 1500
    assert body["buyer"]["name"] == "Buyer" and body["seller"]["name"] == "Seller"
    wallet = client_for(buyer).get("/api/v1/wallet/").json()
    assert wallet == {"balance_fen": 500, "currency": "CNY", "in_escrow_as_buyer_fen": 1500,
                      "in_escrow_as_seller_fen": 0, "awaiting_payment_count": 0}
    entries = client_for(buyer).get("/api/v1/wallet/entries/").json()
    assert entries["count"] == 2
    assert [(e["kind"], e["amount_fen"], e["balance_after_fen"]) for e in entries["results"]] == [
        ("payment", -1500, 500), ("topup", 2000, 2000)]


def test_create_without_buy_scope_is_403_and_writes_nothing(make_firm, make_offer, client_for):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller)
    r = client_for(buyer, scopes=("read", "sell")).post("/api/v1/access-requests/",
                                                          {"offer": str(offer.pk), "purpose": PURPOSE}, format="json")
    error_of(r, 403, "missing_scope")
    assert AccessRequest.objects.count() == 0


def test_create_refusals_render_clear_errors(make_firm, make_offer, client_for):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller)
    client = client_for(buyer)
    err = error_of(client.post("/api/v1/access-requests/", {"offer": str(offer.pk), "purpose": ""}, format="json"), 400)
    assert "purpose" in err["fields"]
    error_of(client.post("/api/v1/access-requests/", {"offer": "not-a-uuid", "purpose": PURPOSE}, format="json"), 400)
    error_of(client.post("/api/v1/access-requests/", {"offer": "00000000-0000-0000-0000-000000000000",
                                                      "purpose": PURPOSE}, format="json"), 404)
    error_of(client_for(seller).post("/api/v1/access-requests/", {"offer": str(offer.pk), "purpose": PURPOSE},
                                     format="json"), 409, "own_dataset")
    assert AccessRequest.objects.count() == 0


def test_seller_approves_and_rejects_with_scopes_and_ownership(make_firm, actor_for, make_offer, client_for):
    seller, buyer, stranger = make_firm(), make_firm(), make_firm()
    first = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"), purpose=PURPOSE)
    second = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"), purpose=PURPOSE)

    error_of(client_for(stranger).get(f"/api/v1/access-requests/{first.pk}/"), 404)
    error_of(client_for(stranger).post(f"/api/v1/access-requests/{first.pk}/approve/"), 404)
    error_of(client_for(seller, scopes=("read", "buy")).post(f"/api/v1/access-requests/{first.pk}/approve/"), 403, "missing_scope")
    error_of(client_for(buyer).post(f"/api/v1/access-requests/{first.pk}/approve/"), 404)  # the buyer is not the seller
    assert Contract.objects.count() == 0

    r = client_for(seller, scopes=("sell",)).post(f"/api/v1/access-requests/{first.pk}/approve/")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["contract"]["status"] == "awaiting_payment"
    error_of(client_for(seller).post(f"/api/v1/access-requests/{first.pk}/approve/"), 409)

    error_of(client_for(seller).post(f"/api/v1/access-requests/{second.pk}/reject/", {"reason": ""}, format="json"), 400)
    r = client_for(seller).post(f"/api/v1/access-requests/{second.pk}/reject/", {"reason": "Not for resale."}, format="json")
    assert r.json()["status"] == "rejected" and r.json()["decision_reason"] == "Not for resale."


def test_direction_filter(make_firm, actor_for, make_offer, client_for):
    a, b = make_firm(), make_firm()
    svc.access_request_create(actor=actor_for(a), offer=make_offer(b, access_mode="approval"), purpose=PURPOSE)
    svc.access_request_create(actor=actor_for(b), offer=make_offer(a, access_mode="approval"), purpose=PURPOSE)
    svc.access_request_create(actor=actor_for(b), offer=make_offer(a, access_mode="approval"), purpose=PURPOSE)
    client = client_for(a)
    assert client.get("/api/v1/access-requests/").json()["count"] == 3
    assert client.get("/api/v1/access-requests/?direction=outgoing").json()["count"] == 1
    assert client.get("/api/v1/access-requests/?direction=incoming").json()["count"] == 2
    error_of(client.get("/api/v1/access-requests/?direction=sideways"), 400)
    assert client_for(make_firm()).get("/api/v1/access-requests/").json()["count"] == 0


def test_cancel_through_api(make_firm, actor_for, make_offer, client_for):
    seller, buyer = make_firm(), make_firm()
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"), purpose=PURPOSE)
    error_of(client_for(seller).post(f"/api/v1/access-requests/{request.pk}/cancel/"), 404)
    assert client_for(buyer).post(f"/api/v1/access-requests/{request.pk}/cancel/").json()["status"] == "cancelled"


def test_idempotent_create_replays_and_refuses_another_body(make_firm, make_offer, fund, client_for):
    seller, buyer, other = make_firm(), make_firm(), make_firm()
    offer, offer2 = make_offer(seller, price_fen=1000), make_offer(seller, price_fen=1000)
    fund(buyer, 5000)
    client = client_for(buyer)
    body = {"offer": str(offer.pk), "purpose": PURPOSE}

    first = client.post("/api/v1/access-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post("/api/v1/access-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert AccessRequest.objects.count() == 1
    assert LedgerTransfer.objects.filter(kind="payment").count() == 1

    err = error_of(client.post("/api/v1/access-requests/", {"offer": str(offer2.pk), "purpose": PURPOSE}, format="json",
                               HTTP_IDEMPOTENCY_KEY="k-1"), 422, "idempotency_key_reused")
    assert "k-1" in err["message"]
    assert AccessRequest.objects.count() == 1

    # Keys are scoped to the firm: another firm's identical key is a new request.
    fund(other, 1000)
    r = client_for(other).post("/api/v1/access-requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert r.status_code == 201 and r.json()["id"] != first.json()["id"]
    assert IdempotencyRecord.objects.filter(key="k-1").count() == 2


def test_idempotent_pay_and_paying_twice(make_firm, actor_for, make_offer, fund, client_for):
    seller, buyer, stranger = make_firm(), make_firm(), make_firm()
    contract = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=700),
                                         purpose=PURPOSE).contract
    client = client_for(buyer)
    url = f"/api/v1/contracts/{contract.pk}/pay/"
    error_of(client.post(url, HTTP_IDEMPOTENCY_KEY="pay-1"), 409, "insufficient_funds")
    assert IdempotencyRecord.objects.count() == 0  # a refusal is not stored: the same key may be retried
    fund(buyer, 1000)
    error_of(client_for(stranger).post(url), 404)
    error_of(client_for(buyer, scopes=("read", "sell")).post(url), 403, "missing_scope")

    paid = client.post(url, HTTP_IDEMPOTENCY_KEY="pay-1")
    replay = client.post(url, HTTP_IDEMPOTENCY_KEY="pay-1")
    again = client.post(url)

    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert replay.status_code == 200 and replay.json() == paid.json()
    error_of(again, 409, "already_paid")
    assert LedgerTransfer.objects.filter(kind="payment").count() == 1
    assert client.get("/api/v1/wallet/").json()["balance_fen"] == 300


def test_idempotency_key_must_be_sane(make_firm, make_offer, client_for):
    seller, buyer = make_firm(), make_firm()
    r = client_for(buyer).post("/api/v1/access-requests/", {"offer": str(make_offer(seller).pk), "purpose": PURPOSE},
                               format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    error_of(r, 400)
    assert AccessRequest.objects.count() == 0


def test_contracts_visible_to_both_parties_only(make_firm, actor_for, make_offer, fund, client_for):
    seller, buyer, stranger = make_firm(), make_firm(), make_firm()
    fund(buyer, 1000)
    contract = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=1000),
                                         purpose=PURPOSE).contract
    for org in (seller, buyer):
        r = client_for(org).get(f"/api/v1/contracts/{contract.pk}/")
        assert r.status_code == 200 and r.json()["licence_sha256"] == contract.licence_sha256
    error_of(client_for(stranger).get(f"/api/v1/contracts/{contract.pk}/"), 404)
    assert client_for(stranger).get("/api/v1/contracts/").json()["count"] == 0
    assert client_for(seller).get("/api/v1/contracts/?role=seller").json()["count"] == 1
    assert client_for(seller).get("/api/v1/contracts/?role=buyer").json()["count"] == 0


def test_session_user_without_firm_is_refused(db):
    from django.contrib.auth import get_user_model

    client = APIClient()
    client.force_login(get_user_model().objects.create_user("loner", password="x-long-password-1"))
    error_of(client.get("/api/v1/wallet/"), 403, "no_firm")


@pytest.mark.parametrize("amount", [10.5, "10.5", -5, 0, "abc", None])
def test_sandbox_topup_refuses_bad_amounts(make_firm, client_for, amount):
    org = make_firm()
    error_of(client_for(org).post("/api/v1/wallet/sandbox-topup/", {"amount_fen": amount}, format="json"), 400)
    assert LedgerTransfer.objects.count() == 0


def test_sandbox_topup_in_demo_mode(make_firm, client_for, settings):
    org = make_firm()
    settings.DEMO_MODE = True
    r = client_for(org).post("/api/v1/wallet/sandbox-topup/", {"amount_fen": 10000}, format="json")
    assert r.status_code == 201 and r.json()["balance_fen"] == 10000
    settings.DEMO_MODE = False
    error_of(client_for(org).post("/api/v1/wallet/sandbox-topup/", {"amount_fen": 100}, format="json"), 403, "not_demo")


def test_market_stats_figures(make_firm, actor_for, make_offer, fund, staff_actor):
    s1, s2, b1, b2 = make_firm("S1"), make_firm("S2"), make_firm("B1"), make_firm("B2")
    fund(b1, 100_000)
    fund(b2, 100_000)
    o1 = make_offer(s1, price_fen=1000, category="text", grade="A", score=92)
    o2 = make_offer(s2, price_fen=3000, category="vision", grade="A", score=88)
    o3 = make_offer(s2, price_fen=500, category="vision", grade="C", score=61)
    for buyer, offer in ((b1, o1), (b2, o1), (b1, o2), (b2, o3)):
        svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    refunded = Contract.objects.get(offer=o3)
    escrow.contract_refund(contract_id=refunded.pk, reason="delivery failed", actor=staff_actor)
    escrow.contract_settle(contract_id=Contract.objects.get(offer=o2).pk)

    stats = APIClient().get("/api/v1/market/stats/").json()

    assert stats["trades"] == 3 and stats["turnover_fen"] == 5000
    assert [(m["trades"], m["turnover_fen"]) for m in stats["by_month"]] == [(3, 5000)]
    assert [(c["category"], c["trades"], c["turnover_fen"]) for c in stats["by_category"]] == [
        ("vision", 1, 3000), ("text", 2, 2000)]
    assert [(t["title"], t["trades"], t["turnover_fen"]) for t in stats["top_datasets"]] == [
        (o2.listing.title, 1, 3000), (o1.listing.title, 2, 2000)]
    assert stats["median_price_by_grade"] == [{"grade": "A", "offers": 2, "median_price_fen": 2000},
                                              {"grade": "C", "offers": 1, "median_price_fen": 500}]
    assert [(c["score_from"], c["score_to"], c["price_from_fen"], c["price_to_fen"], c["grade"], c["offers"])
            for c in stats["price_vs_quality"]] == [
        (60, 64, 500, 999, "C", 1), (85, 89, 2000, 4999, "A", 1), (90, 94, 1000, 1999, "A", 1)]
    assert (stats["active_sellers"], stats["active_buyers"], stats["sellers_with_published_listings"]) == (2, 2, 2)
