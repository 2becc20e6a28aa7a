"""Declaring lineage (each refusal of issue 11) and the revenue share at settlement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import (
    AuditEvent,
    Contract,
    Delivery,
    LedgerEntry,
    RevenueShare,
    VersionLineage,
)
from exchange.services import escrow, lineage
from exchange.services.ledger import ledger_verify, wallet_of
from tests.lineage.conftest import buy
from tests.trading.conftest import build_listing

pytestmark = pytest.mark.django_db


def declare(actor, offer, upstream, **kw):
    kw.setdefault("steps", ["deduplicated", "relabelled"])
    return lineage.lineage_declare(actor=actor, version=offer.listing.version, derived_from=str(upstream.pk), **kw)


def test_declare_freezes_the_share_of_the_licence_held(chain, actor_for):
    c = chain(share_bp=1250)
    link = declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer.listing.version, notes="dropped 3 dupes")
    assert (link.upstream_id, link.licence_id, link.share_bp) == (c.upstream_offer.listing.version_id, c.licence.pk, 1250)
    assert link.steps == ["deduplicated", "relabelled"] and link.notes == "dropped 3 dupes"
    event = AuditEvent.objects.get(action="lineage.declared")
    assert event.details["share_bp"] == 1250 and event.details["licence"] == str(c.licence.pk)
    with pytest.raises(Conflict, match="already declares"):
        declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer.listing.version)


def test_no_licence_is_refused(chain, make_firm, actor_for):
    c = chain()
    other = build_listing(make_firm("Unbought"), derivatives_allowed=True)  # published, but B never bought it
    with pytest.raises(InvalidInput, match="holds no licence") as exc:
        declare(actor_for(c.licensee), c.derived_offer, other.listing.version)
    assert exc.value.code == "no_licence" and "derived_from" in exc.value.fields
    assert not VersionLineage.objects.exists()


def test_expired_licence_is_refused(chain, actor_for):
    c = chain()
    Contract.objects.filter(pk=c.licence.pk).update(delivered_at=timezone.now() - timedelta(days=366),
                                                    status=Contract.Status.SETTLED)
    issued = timezone.now() - timedelta(days=366)  # the licence's package, issued more than its term ago
    Delivery.objects.filter(contract=c.licence).update(status="expired", issued_at=issued,
                                                       expires_at=issued + timedelta(days=365))
    with pytest.raises(InvalidInput, match="expired on") as exc:
        declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer.listing.version)
    assert exc.value.code == "licence_expired"


def test_refunded_licence_is_no_licence(chain, actor_for):
    c = chain()
    escrow.contract_refund(contract_id=c.licence.pk, reason="delivery failed")
    with pytest.raises(InvalidInput) as exc:
        declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer.listing.version)
    assert exc.value.code == "no_licence"


def test_licence_forbidding_derivatives_is_refused(chain, actor_for):
    c = chain(derivatives_allowed=False, share_bp=0)
    with pytest.raises(InvalidInput, match="does not allow derivatives") as exc:
        declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer.listing.version)
    assert exc.value.code == "derivatives_forbidden"


def test_itself_and_own_data_are_refused(chain, actor_for):
    c = chain()
    own = c.derived_offer.listing.version
    with pytest.raises(InvalidInput, match="from itself") as exc:
        declare(actor_for(c.licensee), c.derived_offer, own)
    assert exc.value.code == "lineage_itself"
    sibling = build_listing(c.licensee)
    with pytest.raises(InvalidInput, match="your own firm's data") as exc:
        declare(actor_for(c.licensee), c.derived_offer, sibling.listing.version)
    assert exc.value.code == "lineage_own_data"


def test_a_cycle_is_refused(chain, actor_for, fund):
    c = chain()
    declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer.listing.version)  # B's v derived from A's
    # A buys B's derived data (B allows derivatives) and tries to declare A's version derived from it.
    from exchange.models import Offer

    Offer.objects.filter(pk=c.derived_offer.pk).update(derivatives_allowed=True)
    fund(c.upstream_seller, 100_000)
    buy(actor_for(c.upstream_seller), c.derived_offer)
    with pytest.raises(InvalidInput, match="A cycle") as exc:
        declare(actor_for(c.upstream_seller), c.upstream_offer, c.derived_offer.listing.version)
    assert exc.value.code == "lineage_cycle"


def test_another_firms_private_version_is_404_as_unknown(chain, make_firm, actor_for):
    c = chain()
    private = build_listing(make_firm("Private"), status="draft", derivatives_allowed=True).listing.version
    with pytest.raises(NotFound) as hidden:
        declare(actor_for(c.licensee), c.derived_offer, private)
    import uuid

    with pytest.raises(NotFound) as unknown:
        lineage.lineage_declare(actor=actor_for(c.licensee), version=c.derived_offer.listing.version,
                                derived_from=str(uuid.uuid4()), steps=["filtered"])
    assert hidden.value.message == unknown.value.message and hidden.value.fields == unknown.value.fields
    # and another firm's *downstream* version: the seller check answers 404 as for a missing dataset
    with pytest.raises(NotFound):
        lineage.lineage_declare(actor=actor_for(c.buyer), version=c.derived_offer.listing.version,
                                derived_from=str(c.upstream_offer.listing.version.pk), steps=["filtered"])


@pytest.mark.parametrize("steps,notes,field", [
    ([], "", "lineage_steps"), (["shuffled"], "", "lineage_steps"), ("filtered", 5, "lineage_notes"),
    (["filtered"], "x" * 2001, "lineage_notes"), ([1], "", "lineage_steps")])
def test_bad_steps_are_refused(chain, actor_for, steps, notes, field):
    c = chain()
    with pytest.raises(InvalidInput) as exc:
        declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer.listing.version, steps=steps, notes=notes)
    assert field in exc.value.fields


@pytest.mark.parametrize("value,allowed,message", [
    (10001, True, "At most 100 %"), (-1, True, "At most 100 %"), (1.5, True, "whole number"),
    (True, True, "whole number"), ("500", True, "whole number"), (500, False, "allows derivatives")])
def test_offer_share_bounds(make_firm, actor_for, staff_actor, value, allowed, message):
    from exchange.services.catalog import listing_create, offer_create
    from tests.factories import make_dataset, passed_version

    seller = make_firm()
    actor = actor_for(seller)
    dataset = make_dataset(actor)
    listing = listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    with pytest.raises(InvalidInput, match="errors") as exc:
        offer_create(actor=actor, listing=listing, name="Std", price_fen=100, derivatives_allowed=allowed,
                     derivative_share_bp=value)
    assert message in exc.value.fields["derivative_share_bp"][0]
    offer = offer_create(actor=actor, listing=listing, name="Std", price_fen=100, derivatives_allowed=True,
                         derivative_share_bp=10000)
    assert offer.derivative_share_bp == 10000 and offer.derivative_share_percent == "100%"


# --- Settlement ---------------------------------------------------------------------
def _sale(chain_, actor_for, *, share_bp, derived_price_fen):
    c = chain_(share_bp=share_bp, derived_price_fen=derived_price_fen)
    declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer.listing.version)
    sale = buy(actor_for(c.buyer), c.derived_offer)
    assert sale.status == Contract.Status.PAID
    return c, sale


def _balances(c):
    return wallet_of(c.licensee).balance, wallet_of(c.upstream_seller).balance


def test_settlement_pays_the_share_in_the_same_balanced_transfer(chain, actor_for, settings):
    # 9999 fen at 5 % commission: commission floor(499.95) = 499, proceeds 9500; 12.5 % of 9500 = 1187.5 -> 1187
    c, sale = _sale(chain, actor_for, share_bp=1250, derived_price_fen=9_999)
    assert sale.commission_bp == 500
    before_b, before_a = _balances(c)
    escrow.contract_settle(contract_id=sale.pk)
    after_b, after_a = _balances(c)
    assert (after_b - before_b, after_a - before_a) == (9500 - 1187, 1187)
    share = RevenueShare.objects.get(contract=sale)
    assert (share.base_fen, share.share_bp, share.share_fen, share.upstream_seller_id) == (9500, 1250, 1187,
                                                                                          c.upstream_seller.pk)
    legs = sorted(LedgerEntry.objects.filter(transfer=share.transfer).values_list("amount", flat=True))
    assert legs == sorted([-9999, 9500 - 1187, 1187, 499]) and sum(legs) == 0
    assert share.transfer.kind == "settlement" and "revenue share upstream" in share.transfer.memo
    paid = AuditEvent.objects.get(action="lineage.share_paid")
    assert str(paid.organization_id) == str(c.upstream_seller.pk) and paid.details["share_fen"] == 1187
    assert AuditEvent.objects.get(action="contract.settled").details["share_fen"] == 1187
    assert ledger_verify() is None


def test_refund_before_release_pays_no_share(chain, actor_for):
    c, sale = _sale(chain, actor_for, share_bp=1250, derived_price_fen=9_999)
    before = _balances(c)
    escrow.contract_refund(contract_id=sale.pk, reason="delivery failed")
    assert _balances(c) == before and not RevenueShare.objects.exists()
    assert ledger_verify() is None


def test_partial_refund_shares_only_what_the_seller_keeps(chain, actor_for, staff_actor):
    c, sale = _sale(chain, actor_for, share_bp=3333, derived_price_fen=10_000)
    Contract.objects.filter(pk=sale.pk).update(status=Contract.Status.DELIVERED, delivered_at=timezone.now(),
                                               window_ends_at=timezone.now() + timedelta(days=3))
    before_b, before_a = _balances(c)
    escrow.contract_partial_refund(contract_id=sale.pk, refund_fen=3_001, reason="half the rows broken",
                                   actor=staff_actor)
    # kept 6999, commission floor(349.95)=349, base 6650, share floor(6650*0.3333)=floor(2216.445)=2216
    share = RevenueShare.objects.get(contract=sale)
    assert (share.base_fen, share.share_fen, share.transfer.kind) == (6650, 2216, "partial_refund")
    after_b, after_a = _balances(c)
    assert (after_b - before_b, after_a - before_a) == (6650 - 2216, 2216)
    assert sum(LedgerEntry.objects.filter(transfer=share.transfer).values_list("amount", flat=True)) == 0
    assert ledger_verify() is None


def test_full_share_and_tiny_share(chain, actor_for):
    c, sale = _sale(chain, actor_for, share_bp=10000, derived_price_fen=100)
    before_b, before_a = _balances(c)
    escrow.contract_settle(contract_id=sale.pk, actor=Actor.system("test"))
    assert _balances(c) == (before_b, before_a + 95)  # all of the proceeds after the 5 fen commission
    assert ledger_verify() is None
    c2, sale2 = _sale(chain, actor_for, share_bp=1, derived_price_fen=100)  # 95 × 0.0001 rounds to 0 fen
    escrow.contract_settle(contract_id=sale2.pk)
    assert not RevenueShare.objects.filter(contract=sale2).exists()
    assert ledger_verify() is None


def test_sale_of_a_version_without_lineage_pays_no_share(chain, actor_for):
    c = chain()
    sale = buy(actor_for(c.buyer), c.derived_offer)
    escrow.contract_settle(contract_id=sale.pk)
    assert not RevenueShare.objects.exists() and ledger_verify() is None
