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
