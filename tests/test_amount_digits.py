"""Amounts accept ASCII and full-width digits only, on every face (API field, web form)."""

import pytest
from django import forms
from rest_framework import serializers

from exchange.api.fields import StrictIntegerField
from exchange.validators import amount_digits
from exchange.web.forms import yuan_to_fen

OTHER_SCRIPTS = ["١٢", "۱۲", "१२", "১২", "๑๒", "1٢", "²"]


@pytest.mark.parametrize("text", OTHER_SCRIPTS)
def test_api_amount_field_refuses_other_scripts_digits(text):
    with pytest.raises(serializers.ValidationError) as raised:
        StrictIntegerField().to_internal_value(text)
    assert "digits 0-9" in str(raised.value.detail[0])


@pytest.mark.parametrize("text", OTHER_SCRIPTS)
def test_web_yuan_field_refuses_other_scripts_digits(text):
    with pytest.raises(forms.ValidationError) as raised:
        yuan_to_fen(text)
    assert "digits 0-9" in raised.value.messages[0]


def test_ascii_and_full_width_digits_are_read():
    assert StrictIntegerField().to_internal_value("1999") == 1999
    assert StrictIntegerField().to_internal_value("１９９９") == 1999
    assert yuan_to_fen("１９．９９") == 1999
    assert yuan_to_fen("￥1,234.50") == 123450
    assert amount_digits("１２") == "12"


def test_api_offer_with_arabic_indic_price_is_a_400_and_writes_nothing(make_firm, actor_for, staff_actor):
    from rest_framework.test import APIClient

    from exchange.models import Offer
    from exchange.services import catalog
    from tests.factories import make_dataset, passed_version

    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    client = APIClient()
    client.force_login(actor.user)
    response = client.post(f"/api/v1/listings/{listing.pk}/offers/",
                           {"name": "Std", "price_fen": "١٢", "access_mode": "instant"}, format="json")
    assert response.status_code == 400, response.content
    assert "digits 0-9" in response.content.decode()
    assert Offer.objects.count() == 0


# --- Yuan as people type it (exchange.money.parse_yuan, used by every web and admin form) ---

@pytest.mark.parametrize("text, fen", [
    ("100", 10_000), ("１００", 10_000), ("100元", 10_000), ("１００元", 10_000), ("¥100", 10_000), ("￥100", 10_000),
    ("¥ 1,234.50", 123_450), ("１，２３４．５", 123_450), ("12,345.67元", 1_234_567), ("0.01", 1), ("19.9", 1990),
    ("RMB 88", 8_800), ("88 yuan", 8_800), ("  48000  ", 4_800_000), ("48 000", 4_800_000),
])
def test_yuan_is_read_as_people_type_it(text, fen):
    from exchange.money import parse_yuan

    assert parse_yuan(text) == fen
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text, code, message", [
    ("1.005", "too_precise", "At most 2 decimal places"),
    ("-5", "negative", "cannot be negative"),
    ("1e3", "invalid", "not an amount in yuan"),
    ("1,23", "invalid", "not an amount in yuan"),
    ("一百", "script", "digits 0-9"),
    ("١٠٠", "script", "digits 0-9"),
    ("", "invalid", "not an amount in yuan"),
])
def test_yuan_refusals_name_the_problem_and_never_say_fen(text, code, message):
    from exchange.money import AmountError, parse_yuan

    with pytest.raises(AmountError) as raised:
        parse_yuan(text)
    assert raised.value.code == code and message in str(raised.value)
    assert "fen" not in str(raised.value)


def test_service_refusals_a_person_can_read_are_in_yuan(settings):
    from exchange.errors import InvalidInput
    from exchange.services.catalog import validate_price_fen
    from exchange.services.trading import validate_amount_fen

    for call in (lambda: validate_price_fen(0), lambda: validate_price_fen(settings.MAX_PRICE_FEN + 1),
                 lambda: validate_amount_fen(0), lambda: validate_amount_fen(10**14)):
        with pytest.raises(InvalidInput) as raised:
            call()
        text = raised.value.message + " ".join(m for ms in raised.value.fields.values() for m in ms)
        assert "fen" not in text and "¥" in text


def test_admin_top_up_accepts_full_width_yuan_with_the_yuan_sign(db, make_firm):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from exchange.models import Account, LedgerTransfer
    from exchange.services import ledger

    org = make_firm()
    wallet = ledger.wallet_of(org)
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("treasurer", "t@shujiao.example", "x-staff-pass-2026"))
    page = staff.post("/admin/exchange/account/", {"action": "top_up", "_selected_action": [wallet.pk], "apply": "1",
                                                   "amount": "１００元", "memo": "bank ref 2026-12-03"}, follow=True)
    assert page.status_code == 200
    assert Account.objects.get(pk=wallet.pk).balance == 10_000
    transfer = LedgerTransfer.objects.get(kind="topup")
    assert transfer.memo == "bank ref 2026-12-03"
    assert "¥100.00" in staff.get("/admin/exchange/account/").content.decode()


def test_settlement_memo_and_licence_text_speak_yuan(make_firm, actor_for):
    from exchange.models import Contract, LedgerTransfer
    from exchange.services import trading
    from tests.trading.conftest import PURPOSE, build_listing

    seller, buyer = make_firm(), make_firm()
    offer = build_listing(seller, price_fen=4_800_000, access_mode="instant")
    from django.contrib.auth import get_user_model

    from exchange.actor import Actor

    staff = Actor(type="staff", user=get_user_model().objects.create_user("cashier", is_staff=True))
    trading.wallet_topup(actor=staff, organization=buyer, amount_fen=4_800_000, memo="bank")
    contract = trading.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE).contract
    from exchange.services import escrow

    escrow.contract_settle(contract_id=contract.pk)

    memo = LedgerTransfer.objects.get(kind="settlement").memo
    assert "¥45,600.00 to seller, ¥2,400.00 commission" in memo and "fen" not in memo
    licence = Contract.objects.get(pk=contract.pk).licence_text
    assert "Price: ¥48,000.00 (CNY)" in licence and "fen" not in licence
