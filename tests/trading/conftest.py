"""Trading fixtures: published listings with offers, funded wallets, actors with API keys."""

from __future__ import annotations

import hashlib
import itertools

import pytest

_seq = itertools.count(1)


def build_listing(seller, *, price_fen: int = 1000, access_mode: str = "instant", status: str = "published",
                  category: str = "text", grade: str = "B", score: int = 80, **offer_fields):
    """A dataset with one passed version, a listing in ``status`` and one offer (rows only, no file)."""
    from django.utils import timezone

    from exchange.models import Dataset, DatasetVersion, Listing, Offer, QualityReport

    n = next(_seq)
    dataset = Dataset.objects.create(owner=seller, title=f"Dataset {n}", category=category, kind="cleaned")
    version = DatasetVersion.objects.create(
        dataset=dataset, number=1, file=f"datasets/test/{n}.csv", original_filename=f"d{n}.csv", format="csv",
        byte_size=100, sha256=hashlib.sha256(f"data {n}".encode()).hexdigest(), row_count=10, status="passed")
    QualityReport.objects.create(version=version, report={}, score=score, grade=grade, passed=True)
    listing = Listing.objects.create(dataset=dataset, version=version, title=f"Listing {n}", status=status,
                                     published_at=timezone.now() if status == "published" else None)
    offer = Offer.objects.create(listing=listing, name="Research licence", price_fen=price_fen, access_mode=access_mode,
                                 purpose_restriction=offer_fields.pop("purpose_restriction", "Internal research only."),
                                 **offer_fields)
    from exchange.services.catalog_flat import listings_refresh_flat

    listings_refresh_flat([listing.pk])  # rows made directly: fill the flat catalog columns as services do
    return offer


@pytest.fixture
def make_offer(db):
    return build_listing


@pytest.fixture
def fund(db):
    """Credit a firm's wallet through the staff top-up service."""
    from django.contrib.auth import get_user_model

    from exchange.actor import Actor
    from exchange.services.trading import wallet_topup

    def _fund(org, amount_fen: int):
        User = get_user_model()
        user, _ = User.objects.get_or_create(username="treasury", defaults={"is_staff": True})
        return wallet_topup(actor=Actor(type="staff", user=user), organization=org, amount_fen=amount_fen,
                            memo="bank transfer 2026-001")

    return _fund


@pytest.fixture
def key_actor(db):
    """An API-key actor of a firm with the given scopes."""
    from exchange.actor import Actor
    from exchange.services.orgs import api_key_create

    def _make(org, scopes):
        owner = org.memberships.select_related("user").first().user
        owner_actor = Actor(type="user", user=owner, organization=org)
        key, _secret = api_key_create(actor=owner_actor, name="k", scopes=list(scopes))
        return Actor(type="api_key", api_key=key, organization=org)

    return _make


PURPOSE = "Training an intent classifier for our customer service."
