"""The licence states the derivative terms; staff see lineage and shares read-only in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from exchange.services import escrow
from exchange.services.lineage import lineage_declare
from tests.lineage.conftest import buy

pytestmark = pytest.mark.django_db


def test_licence_text_states_the_derivative_terms(chain):
    c = chain(share_bp=1250)
    text = c.licence.licence_text
    assert ("10. Derivatives. The licensee may sell data derived from this version" in text
            and "12.5% of its proceeds after commission" in text)
    forbidding = chain(derivatives_allowed=False, share_bp=0)
    assert "Derivatives." not in forbidding.licence.licence_text


def test_admin_shows_lineage_and_shares_read_only(chain, actor_for):
    c = chain(share_bp=1250)
    link = lineage_declare(actor=actor_for(c.licensee), version=c.derived_offer.listing.version,
                           derived_from=c.upstream_offer.listing.version.pk, steps=["joined"])
    sale = buy(actor_for(c.buyer), c.derived_offer)
    escrow.contract_settle(contract_id=sale.pk)
    staff = get_user_model().objects.create_superuser("lineage-staff", "s@example.com", "x-staff-pass-2026")
    client = Client()
    client.force_login(staff)
    listing = client.get("/admin/exchange/versionlineage/").content.decode()
    assert "Joined" in listing
    detail = client.get(f"/admin/exchange/versionlineage/{link.pk}/change/").content.decode()
    assert 'name="_save"' not in detail and "1250" in detail
    shares = client.get("/admin/exchange/revenueshare/").content.decode()
    assert "¥11.87" in shares and "Upstream Labs" in shares
    assert client.get("/admin/exchange/revenueshare/add/").status_code == 403
    assert client.post(f"/admin/exchange/versionlineage/{link.pk}/delete/", {"post": "yes"}).status_code == 403
