"""Delivery fixtures: a signing key, a paid contract over a real stored file, a built delivery."""

from __future__ import annotations

import pytest

PURPOSE = "Training an intent classifier for our customer service."


@pytest.fixture
def signing_key(db):
    from exchange.actor import Actor
    from exchange.services.signing import signing_key_ensure

    return signing_key_ensure(actor=Actor.system("test"))


@pytest.fixture
def paid_contract(make_firm, actor_for, staff_actor, signing_key):
    """A buyer's paid contract for a published listing whose version file is really stored.

    Returns a factory: ``paid_contract(content=..., download_limit=..., term_days=..., acceptance_days=...)``.
    ``acceptance_days`` defaults to 0 here (escrow released the moment the delivery is ready), the
    behaviour these delivery tests are about; the acceptance window has its own tests (tests/after_sales).
    """
    from exchange.services import catalog
    from exchange.services.trading import access_request_create, wallet_topup
    from tests.factories import make_dataset, passed_version

    def _make(*, content: bytes | None = None, download_limit: int = 3, term_days: int = 365, price_fen: int = 10000,
              seller=None, buyer=None, filename: str = "reviews.csv", dataset_fields: dict | None = None,
              acceptance_days: int = 0, guarantee=None, schema: dict | None = None, offer: dict | None = None):
        seller = seller or make_firm("卖方 Seller Co")
        buyer = buyer or make_firm("买方 Buyer Co")
        s_actor = actor_for(seller)
        fields = dict(dataset_fields or {})
        if schema is not None:
            fields["schema"] = schema
        dataset = make_dataset(s_actor, **fields)
        version = passed_version(s_actor, dataset, content, filename)
        listing = catalog.listing_create(actor=s_actor, dataset=dataset, version=version)
        offer = catalog.offer_create(actor=s_actor, listing=listing, name="Standard", price_fen=price_fen,
                                     access_mode="instant", download_limit=download_limit, term_days=term_days,
                                     acceptance_days=acceptance_days, guarantee=guarantee, **(offer or {}))
        catalog.listing_submit(actor=s_actor, listing=listing)
        catalog.listing_review(actor=staff_actor, listing=listing, approve=True)
        wallet_topup(actor=staff_actor, organization=buyer, amount_fen=price_fen * 2, memo="bank ref 1")
        request = access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
        request.refresh_from_db()
        contract = request.contract
        assert contract.status == "paid"
        return contract

    return _make


@pytest.fixture
def build_now():
    """Run the worker's code path in-process: claim and build one delivery."""
    from exchange.services import delivery as svc

    def _build(delivery):
        claim = svc.delivery_claim(delivery_id=str(delivery.pk))
        assert claim is not None
        result = svc.delivery_build(claim=claim)
        delivery.refresh_from_db()
        return result

    return _build


@pytest.fixture
def ready_delivery(paid_contract, build_now):
    def _make(**kwargs):
        contract = paid_contract(**kwargs)
        delivery = contract.delivery
        build_now(delivery)
        assert delivery.status == "ready", delivery.error
        return delivery

    return _make
