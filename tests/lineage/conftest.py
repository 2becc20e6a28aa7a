"""Lineage fixtures: an upstream seller whose offer allows derivatives, a licensee who sells a
derived version, and a buyer of the derived data."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.trading.conftest import PURPOSE, build_listing, fund  # noqa: F401  (fund is a fixture)


@dataclass
class Chain:
    upstream_seller: object
    licensee: object
    buyer: object
    upstream_offer: object
    licence: object
    derived_offer: object


def buy(actor, offer):
    """An instant purchase, paid from the buyer's wallet: the contract."""
    from exchange.models import Contract
    from exchange.services.trading import access_request_create

    request = access_request_create(actor=actor, offer=offer, purpose=PURPOSE)
    return Contract.objects.get(access_request=request)


@pytest.fixture
def chain(make_firm, actor_for, fund):  # noqa: F811 — the trading fixture imported above
    """Firm A sells data allowing derivatives at 12.5 %; firm B bought it; B lists a version
    (not yet declared derived); firm C is a funded buyer."""

    def _make(*, share_bp: int = 1250, derivatives_allowed: bool = True, price_fen: int = 10_000,
              derived_price_fen: int = 9_999):
        a, b, c = make_firm("Upstream Labs"), make_firm("Cleaner Co"), make_firm("Buyer Inc")
        up_offer = build_listing(a, price_fen=price_fen, derivatives_allowed=derivatives_allowed,
                                 derivative_share_bp=share_bp)
        fund(b, price_fen)
        fund(c, 1_000_000)
        licence = buy(actor_for(b), up_offer)
        derived_offer = build_listing(b, price_fen=derived_price_fen)
        return Chain(a, b, c, up_offer, licence, derived_offer)

    return _make
