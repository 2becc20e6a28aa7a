"""Trading pages: buying from the listing page, requests, contracts, incoming requests, sales,
the wallet and the public market statistics."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exchange.models import AccessRequest, Account, Contract, LedgerEntry, LedgerTransfer
from exchange.services import escrow
from exchange.services import trading as trading_svc
from exchange.web.charts import Column, Point, column_chart, nice_ceiling, scatter_chart
from exchange.web.views.market import month_series
from tests.trading.conftest import PURPOSE, build_listing
from tests.web.conftest import client_for


@pytest.fixture
def fund(staff_actor):
    def _fund(org, amount_fen: int):
        return trading_svc.wallet_topup(actor=staff_actor, organization=org, amount_fen=amount_fen,
                                        memo="bank transfer 2026-001")
    return _fund


def balance(org) -> int:
    account = Account.objects.filter(kind=Account.Kind.WALLET, organization=org).first()
    return account.balance if account else 0


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def buy(client, offer, purpose=PURPOSE, **kwargs):
    return client.post(reverse("web:offer-buy", args=[offer.pk]), {"purpose": purpose}, **kwargs)


# --- Listing page purchase box ------------------------------------------------------

def test_purchase_box_for_a_buyer_shows_price_terms_balance_and_buy_now(buyer_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=123_450, access_mode="instant")
    fund(buyer, 5_000)

    body = buyer_client.get(reverse("web:listing", args=[offer.listing.pk])).content.decode()

    assert "Buy now · ¥1,234.50" in body
    assert "Your wallet: <a" in body and "¥50.00</a>" in body
    assert "Insufficient funds: your wallet is ¥1,184.50 short." in body
    assert "Internal research only." in body
    assert f'action="{reverse("web:offer-buy", args=[offer.pk])}"' in body


def test_purchase_box_for_approval_offer_says_request_access(buyer_client, seller):
    offer = build_listing(seller, price_fen=1000, access_mode="approval")

    body = buyer_client.get(reverse("web:listing", args=[offer.listing.pk])).content.decode()

    assert "Request access</button>" in body
    assert "Buy now" not in body


def test_purchase_box_anonymous_seller_and_unverified_firm(client, seller_client, seller, make_firm):
    offer = build_listing(seller, price_fen=1000)
    url = reverse("web:listing", args=[offer.listing.pk])
    unverified = client_for(make_firm("Pending Firm", verified=False, username="pending"))

    anonymous_body = client.get(url).content.decode()
    own_body = seller_client.get(url).content.decode()
    unverified_body = unverified.get(url).content.decode()

    assert "Log in to buy" in anonymous_body and 'name="purpose"' not in anonymous_body
    assert "This is your listing." in own_body and 'name="purpose"' not in own_body
    assert "Your firm is pending verification by exchange staff; only verified firms may buy." in unverified_body
    assert 'name="purpose"' not in unverified_body


def test_purchase_box_shows_pending_request_and_awaiting_payment(buyer_client, buyer, seller, actor_for):
    approval = build_listing(seller, price_fen=1000, access_mode="approval")
    trading_svc.access_request_create(actor=actor_for(buyer), offer=approval, purpose=PURPOSE)
    instant = build_listing(seller, price_fen=2000, access_mode="instant")
    trading_svc.access_request_create(actor=actor_for(buyer), offer=instant, purpose=PURPOSE)  # no funds

    pending_body = buyer_client.get(reverse("web:listing", args=[approval.listing.pk])).content.decode()
    awaiting_body = buyer_client.get(reverse("web:listing", args=[instant.listing.pk])).content.decode()

    assert "Request pending" in pending_body and 'name="purpose"' not in pending_body
    contract = Contract.objects.get(offer=instant)
    assert "Approved — awaiting your payment." in awaiting_body
    assert f'action="{reverse("web:contract-pay", args=[contract.pk])}"' in awaiting_body
    assert "Pay now ¥20.00" in awaiting_body


# --- Buying -------------------------------------------------------------------------

def test_buy_now_pays_the_contract_and_debits_the_wallet_exactly(buyer_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=1_234, access_mode="instant")
    fund(buyer, 5_000)

    response = buy(buyer_client, offer, follow=True)

    contract = Contract.objects.get()
    assert response.redirect_chain == [(reverse("web:my-contracts"), 302)]
    assert (contract.buyer, contract.status, contract.price_fen) == (buyer, Contract.Status.PAID, 1_234)
    assert contract.purpose == PURPOSE
    assert balance(buyer) == 3_766
    assert messages_of(response) == [f"Bought “{offer.listing.title}”: ¥12.34 is held in escrow until you accept "
                                     "the delivery (at the latest 3 days after it is ready, unless you report a "
                                     "problem)."]
    assert f'data-contract="{contract.pk}"' in response.content.decode()


def test_buy_page_get_shows_terms_and_balance(buyer_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=1_234, access_mode="instant")
    fund(buyer, 1_000)

    response = buyer_client.get(reverse("web:offer-buy", args=[offer.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Buy now · ¥12.34" in body
    assert "¥10.00" in body and "¥2.34" in body  # balance and shortfall
    assert "Insufficient funds: the contract will wait for payment until you top up." in body


def test_request_with_empty_purpose_is_a_form_error_and_writes_nothing(buyer_client, seller):
    offer = build_listing(seller, access_mode="approval")

    response = buy(buyer_client, offer, purpose="   ")

    assert response.status_code == 200
    assert response.context["form"].errors["purpose"] == ["State the purpose you will use the data for."]
    assert AccessRequest.objects.count() == 0
    assert Contract.objects.count() == 0


def test_request_with_too_short_purpose_shows_the_services_message(buyer_client, seller):
    offer = build_listing(seller, access_mode="approval")

    response = buy(buyer_client, offer, purpose="for AI")

    form = response.context["form"]
    assert response.status_code == 200
    assert form.non_field_errors() == ["Describe the purpose in at least a sentence."]
    assert form.errors["purpose"] == ["At least a sentence saying what the data will be used for."]
    assert AccessRequest.objects.count() == 0


def test_request_access_for_approval_offer_goes_to_my_requests(buyer_client, buyer, seller):
    offer = build_listing(seller, price_fen=1000, access_mode="approval")

    response = buy(buyer_client, offer, follow=True)

    request = AccessRequest.objects.get()
    assert response.redirect_chain == [(reverse("web:my-requests"), 302)]
    assert (request.buyer, request.status) == (buyer, AccessRequest.Status.PENDING)
    assert Contract.objects.count() == 0
    assert messages_of(response) == [f"Access to “{offer.listing.title}” requested from {seller.name}. "
                                     "You can pay once the seller approves it."]


def test_buy_now_without_funds_says_so_and_moves_no_money(buyer_client, buyer, seller):
    offer = build_listing(seller, price_fen=1_234, access_mode="instant")

    response = buy(buyer_client, offer, follow=True)

    contract = Contract.objects.get()
    assert contract.status == Contract.Status.AWAITING_PAYMENT
    assert messages_of(response) == ["Approved, but not paid: your wallet holds ¥0.00, less than the price of "
                                     "¥12.34. Top up your wallet, then pay."]
    assert LedgerTransfer.objects.count() == 0
    assert "Pay now" in response.content.decode()


def test_buying_own_listing_is_refused_and_writes_nothing(seller_client, seller):
    offer = build_listing(seller, access_mode="instant")

    response = buy(seller_client, offer)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["You cannot buy your own firm's dataset."]
    assert "This is your listing." in response.content.decode()
    assert AccessRequest.objects.count() == 0


def test_unverified_firm_is_refused_and_nothing_written(make_firm, seller):
    offer = build_listing(seller, access_mode="instant")
    client = client_for(make_firm("Pending Firm", verified=False, username="pending"))

    response = buy(client, offer)

    assert response.context["form"].non_field_errors() == ["Your firm is not verified yet; only verified firms may buy."]
    assert AccessRequest.objects.count() == 0


def test_buying_an_unpublished_listing_is_404(buyer_client, seller):
    offer = build_listing(seller, status="draft")

    assert buy(buyer_client, offer).status_code == 404
    assert buyer_client.get(reverse("web:offer-buy", args=[offer.pk])).status_code == 404
    assert AccessRequest.objects.count() == 0


def test_duplicate_pending_request_is_refused(buyer_client, buyer, seller, actor_for):
    offer = build_listing(seller, access_mode="approval")
    trading_svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)

    response = buy(buyer_client, offer)

    assert response.context["form"].non_field_errors() == ["You already have a pending request for this offer."]
    assert AccessRequest.objects.count() == 1


# --- Buyer's requests and contracts ------------------------------------------------------

def test_my_requests_lists_and_cancels_a_pending_request(buyer_client, buyer, seller, actor_for):
    offer = build_listing(seller, price_fen=4_200, access_mode="approval")
    request = trading_svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)

    page = buyer_client.get(reverse("web:my-requests")).content.decode()
    response = buyer_client.post(reverse("web:request-cancel", args=[request.pk]), follow=True)

    assert offer.listing.title in page and "¥42.00" in page and "Pending" in page
    assert f'action="{reverse("web:request-cancel", args=[request.pk])}"' in page
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.CANCELLED
    assert messages_of(response) == [f"Your request for “{offer.listing.title}” is cancelled."]


def test_pay_now_then_pay_again_moves_money_once(buyer_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=1_000, access_mode="instant")
    buy(buyer_client, offer, follow=True)  # no funds yet: awaiting payment (its message is read here)
    contract = Contract.objects.get()
    fund(buyer, 1_500)
    url = reverse("web:contract-pay", args=[contract.pk])

    first = buyer_client.post(url, follow=True)
    second = buyer_client.post(url, follow=True)

    contract.refresh_from_db()
    assert contract.status == Contract.Status.PAID
    assert messages_of(first) == [f"Paid ¥10.00 for “{offer.listing.title}”; it is held in escrow until you accept "
                                  "the delivery (at the latest 3 days after it is ready, unless you report a problem)."]
    assert messages_of(second) == ["This contract is already paid."]
    assert balance(buyer) == 500
    assert LedgerTransfer.objects.filter(kind=LedgerTransfer.Kind.PAYMENT).count() == 1


def test_pay_without_enough_funds_names_the_shortfall_in_cny(buyer_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=1_234, access_mode="instant")
    buy(buyer_client, offer, follow=True)
    contract = Contract.objects.get()
    fund(buyer, 100)

    response = buyer_client.post(reverse("web:contract-pay", args=[contract.pk]), follow=True)

    assert messages_of(response) == ["Insufficient funds: your wallet holds ¥1.00 but ¥12.34 is needed "
                                     "(short by ¥11.34). Top up your wallet, then pay."]
    contract.refresh_from_db()
    assert contract.status == Contract.Status.AWAITING_PAYMENT
    assert balance(buyer) == 100
    assert LedgerTransfer.objects.filter(kind=LedgerTransfer.Kind.PAYMENT).count() == 0


def test_paying_another_firms_contract_is_404(buyer, seller, make_firm, fund, actor_for):
    offer = build_listing(seller, price_fen=1_000, access_mode="instant")
    trading_svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    contract = Contract.objects.get()
    other = make_firm("Other Buyer", username="other")
    fund(other, 5_000)

    response = client_for(other).post(reverse("web:contract-pay", args=[contract.pk]))

    assert response.status_code == 404
    assert client_for(other).get(reverse("web:contract", args=[contract.pk])).status_code == 404
    assert balance(other) == 5_000


def test_my_contracts_shows_price_status_and_delivery_link(buyer_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=99_900, access_mode="instant")
    fund(buyer, 100_000)
    buy(buyer_client, offer)
    contract = Contract.objects.get()

    body = buyer_client.get(reverse("web:my-contracts")).content.decode()

    assert "¥999.00" in body and "Paid (in escrow)" in body
    assert reverse("web:contract", args=[contract.pk]) in body
    if hasattr(contract, "delivery"):  # the delivery is made when the payment commits
        assert reverse("web:delivery", args=[contract.delivery.pk]) in body


def test_contract_page_shows_licence_to_both_parties(buyer_client, seller_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=1_000, access_mode="instant")
    fund(buyer, 1_000)
    buy(buyer_client, offer)
    contract = Contract.objects.get()
    url = reverse("web:contract", args=[contract.pk])

    buyer_body = buyer_client.get(url).content.decode()
    seller_body = seller_client.get(url).content.decode()

    assert contract.licence_sha256 in buyer_body and contract.licence_sha256 in seller_body
    assert "SHUJIAO DATA LICENCE" in buyer_body
    assert "Payout" in seller_body and "Payout" not in buyer_body


# --- Seller's incoming requests and sales ------------------------------------------------

@pytest.fixture
def pending_request(buyer, seller, actor_for):
    offer = build_listing(seller, price_fen=2_000, access_mode="approval")
    return trading_svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)


def test_incoming_page_lists_pending_first_with_buyer_purpose_and_price(seller_client, pending_request, buyer):
    body = seller_client.get(reverse("web:incoming-requests")).content.decode()

    assert buyer.name in body and PURPOSE in body and "¥20.00" in body
    assert f'action="{reverse("web:request-approve", args=[pending_request.pk])}"' in body
    assert body.index("Waiting for your decision") < body.index(PURPOSE) < body.index("Decided")


def test_seller_approves_and_the_buyers_payment_goes_to_escrow(seller_client, pending_request, buyer, fund):
    fund(buyer, 5_000)

    response = seller_client.post(reverse("web:request-approve", args=[pending_request.pk]), {"confirm": "yes"},
                                  follow=True)

    pending_request.refresh_from_db()
    assert response.redirect_chain == [(reverse("web:incoming-requests"), 302)]
    assert pending_request.status == AccessRequest.Status.APPROVED
    assert pending_request.contract.status == Contract.Status.PAID
    assert balance(buyer) == 3_000
    assert messages_of(response) == [f"Approved {buyer.name}'s request for “{pending_request.listing.title}”. "
                                     "The buyer's payment is in escrow."]


def test_approve_asks_for_confirmation_first_without_script(seller_client, pending_request, buyer, fund):
    fund(buyer, 5_000)
    url = reverse("web:request-approve", args=[pending_request.pk])

    first = seller_client.post(url)  # the Approve button on the incoming page

    pending_request.refresh_from_db()
    body = first.content.decode()
    assert first.status_code == 200 and pending_request.status == AccessRequest.Status.PENDING
    assert Contract.objects.count() == 0 and balance(buyer) == 5_000
    assert "Approve this request?" in body and "¥20.00" in body and PURPOSE in body
    assert 'name="confirm" value="yes"' in body and f'action="{url}"' in body

    seller_client.post(url, {"confirm": "yes"})

    pending_request.refresh_from_db()
    assert pending_request.status == AccessRequest.Status.APPROVED and balance(buyer) == 3_000


def test_approving_twice_says_so(seller_client, pending_request):
    url = reverse("web:request-approve", args=[pending_request.pk])
    seller_client.post(url, {"confirm": "yes"}, follow=True)

    response = seller_client.post(url, {"confirm": "yes"}, follow=True)

    assert messages_of(response) == ["Only a pending request can be approved; this one is approved."]
    assert Contract.objects.count() == 1


def test_reject_requires_a_reason_then_rejects(seller_client, pending_request):
    url = reverse("web:request-reject", args=[pending_request.pk])

    empty = seller_client.post(url, {"reason": "  "})
    pending_request.refresh_from_db()
    assert empty.status_code == 200
    rows = [row for row in empty.context["pending"] if row["r"].pk == pending_request.pk]
    assert rows[0]["reject_form"].errors["reason"] == ["Give the buyer a reason."]
    assert pending_request.status == AccessRequest.Status.PENDING

    response = seller_client.post(url, {"reason": "Manufacturing use is outside our licence."}, follow=True)

    pending_request.refresh_from_db()
    assert (pending_request.status, pending_request.decision_reason) == (
        AccessRequest.Status.REJECTED, "Manufacturing use is outside our licence.")
    assert Contract.objects.count() == 0
    assert "Manufacturing use is outside our licence." in response.content.decode()


def test_another_firms_request_cannot_be_approved_or_rejected(pending_request, make_firm, buyer_client):
    other = client_for(make_firm("Third Firm", username="third"))

    assert other.post(reverse("web:request-approve", args=[pending_request.pk]), {"confirm": "yes"}).status_code == 404
    assert other.post(reverse("web:request-reject", args=[pending_request.pk]), {"reason": "no"}).status_code == 404
    # The buyer cannot approve its own request either: it is not an incoming one.
    assert buyer_client.post(reverse("web:request-approve", args=[pending_request.pk]),
                             {"confirm": "yes"}).status_code == 404
    pending_request.refresh_from_db()
    assert pending_request.status == AccessRequest.Status.PENDING
    assert Contract.objects.count() == 0


def test_sales_page_shows_commission_and_payout(seller_client, buyer_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=1_234, access_mode="instant")
    fund(buyer, 5_000)
    buy(buyer_client, offer)
    contract = Contract.objects.get()
    escrow.contract_settle(contract_id=contract.pk)

    body = seller_client.get(reverse("web:sales")).content.decode()

    # 5 % of 1,234 fen is 61.7, rounded down to 61 fen; the seller gets 1,173 fen.
    assert "¥12.34" in body and "¥0.61" in body and "<strong>¥11.73</strong>" in body
    assert buyer.name in body and "Settled" in body
    assert balance(seller) == 1_173


# --- Wallet -------------------------------------------------------------------------

def test_wallet_page_shows_balance_and_ledger_entries(buyer_client, buyer, seller, fund):
    offer = build_listing(seller, price_fen=1_234, access_mode="instant")
    fund(buyer, 5_000)
    buy(buyer_client, offer)

    response = buyer_client.get(reverse("web:wallet"))

    body = response.content.decode()
    assert [row["amount"] for row in response.context["entries"]] == ["-¥12.34", "+¥50.00"]
    assert [row["balance_after"] for row in response.context["entries"]] == ["¥37.66", "¥50.00"]
    assert "Top-up" in body and "Payment into escrow" in body and "bank transfer 2026-001" in body
    assert response.context["balance"] == "¥37.66"
    assert response.context["escrow_buyer"] == "¥12.34"


def test_wallet_entries_are_paginated(buyer_client, buyer, fund):
    for _ in range(25):
        fund(buyer, 100)

    first = buyer_client.get(reverse("web:wallet"))
    second = buyer_client.get(reverse("web:wallet") + "?page=2")

    assert len(first.context["entries"]) == 20 and len(second.context["entries"]) == 5
    assert "Page 1 of 2" in first.content.decode()


def test_sandbox_topup_in_demo_mode(buyer_client, buyer, settings):
    settings.DEMO_MODE = True

    response = buyer_client.post(reverse("web:wallet-topup"), {"amount": "250.50"}, follow=True)

    assert balance(buyer) == 25_050
    assert messages_of(response) == ["Added ¥250.50 of demo money to your wallet."]


@pytest.mark.parametrize(("amount", "error"), [("-5", "The amount cannot be negative."),
                                               ("0", "Must be at least ¥0.01."),
                                               ("1.005", "At most 2 decimal places: the smallest amount is ¥0.01.")])
def test_sandbox_topup_refuses_bad_amounts_and_writes_nothing(buyer_client, buyer, settings, amount, error):
    settings.DEMO_MODE = True

    response = buyer_client.post(reverse("web:wallet-topup"), {"amount": amount})

    assert response.status_code == 200
    assert response.context["topup_form"].errors["amount"] == [error]
    assert LedgerEntry.objects.count() == 0


def test_sandbox_topup_is_refused_outside_demo_mode(buyer_client, buyer, settings):
    settings.DEMO_MODE = False

    page = buyer_client.get(reverse("web:wallet")).content.decode()
    response = buyer_client.post(reverse("web:wallet-topup"), {"amount": "100"})

    assert "Sandbox top-up" not in page
    assert response.context["topup_form"].non_field_errors() == ["Sandbox top-ups exist only in demo mode."]
    assert balance(buyer) == 0


@pytest.mark.parametrize("name", ["wallet", "my-requests", "my-contracts", "incoming-requests", "sales"])
def test_anonymous_is_sent_to_login(client, name):
    url = reverse(f"web:{name}")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={url}"


def test_anonymous_post_to_buy_is_sent_to_login_and_writes_nothing(client, seller):
    offer = build_listing(seller)

    response = buy(client, offer)

    assert response.status_code == 302 and response["Location"].startswith(reverse("web:login"))
    assert AccessRequest.objects.count() == 0


# --- Market statistics ------------------------------------------------------------------

def test_market_page_renders_figures_in_cny(client, buyer, seller, make_firm, fund, actor_for):
    second_buyer = make_firm("Second Buyer", username="second")
    for org, price in ((buyer, 123_450), (second_buyer, 50_000)):
        fund(org, 200_000)
        trading_svc.access_request_create(actor=actor_for(org), offer=build_listing(seller, price_fen=price, grade="A",
                                                                                    score=91), purpose=PURPOSE)

    response = client.get(reverse("web:market"))

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["turnover"] == "¥1,734.50"
    assert '<span class="tile-value" id="trades">2</span>' in body
    assert '<span class="tile-value" id="active-buyers">2</span>' in body
    assert '<span class="tile-value" id="active-sellers">1</span>' in body
    assert [row["turnover"] for row in response.context["top_datasets"]] == ["¥1,234.50", "¥500.00"]
    assert response.context["categories"][0]["turnover"] == "¥1,734.50"
    assert response.context["grades"] == [{"grade": "A", "offers": 2, "median_price_fen": 86_725, "median": "¥867.25"}]
    assert body.count("<svg") == 5
    assert body.count('class="chart-dot dot-A"') == 2
    assert "cdn" not in body.lower() and "<script src=\"http" not in body


def test_market_page_without_trades(client, db):
    response = client.get(reverse("web:market"))

    assert response.status_code == 200
    assert response.context["turnover"] == "¥0.00"
    assert response.context["average"] == "—"
    assert "No trades yet." in response.content.decode()


def test_month_series_fills_missing_months_with_zeros():
    from datetime import date

    rows = [{"month": "2026-01", "trades": 2, "turnover_fen": 500}]

    series = month_series(rows, end=date(2026, 2, 15), months=3)

    assert series == [{"month": "2025-12", "trades": 0, "turnover_fen": 0},
                      {"month": "2026-01", "trades": 2, "turnover_fen": 500},
                      {"month": "2026-02", "trades": 0, "turnover_fen": 0}]


def test_column_and_scatter_charts_escape_labels():
    svg = column_chart([Column("<b>", 10), Column("x", 0)], title='a"b')
    dots = scatter_chart([Point(50, 1000, label="<script>", tone="A")], title="t", x_label="<x>", y_label="y")

    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<b>" not in svg and "&lt;b&gt;" in svg
    assert 'aria-label="a&quot;b"' in svg
    assert "<script>" not in dots and "&lt;script&gt;" in dots and "&lt;x&gt;" in dots
    assert 'class="chart-dot dot-A"' in dots
    assert "No data yet" in column_chart([], title="empty") and "No data yet" in scatter_chart([], title="e", x_label="",
                                                                                                 y_label="")


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (7, 10), (23, 25), (1000, 1000), (1001, 2000), (880_000, 1_000_000)])
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_integer_column_chart_has_whole_grid_values():
    svg = column_chart([Column("a", 1)], title="Trades", integer=True)

    assert ">0.25<" not in svg and ">4<" in svg and ">1<" in svg
