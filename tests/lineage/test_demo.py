"""Demo data: a derived dataset with a revenue share and a settled sale that paid it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from exchange import demo
from exchange.models import Contract, Listing, RevenueShare, VersionLineage
from exchange.services.ledger import ledger_verify

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(300)]


def test_seed_demo_has_a_derived_dataset_whose_sale_paid_the_share(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    link = VersionLineage.objects.select_related("version__dataset__owner", "upstream__dataset__owner").get()
    assert link.version.dataset.title == demo.DERIVED.dataset.title and link.share_bp == 1500
    assert link.upstream.dataset.owner.name.startswith("合肥") and link.steps == ["deduplicated", "filtered"]
    share = RevenueShare.objects.select_related("contract").get()
    assert share.contract.status == Contract.Status.SETTLED and share.upstream_seller == link.upstream.dataset.owner
    # 3000.00 CNY at 5 %: commission 15000 fen, proceeds 285000, 15 % = 42750
    assert (share.base_fen, share.share_fen) == (285_000, 42_750)
    assert Listing.objects.get(dataset=link.version.dataset).status == Listing.Status.PUBLISHED
    assert "42750 fen paid upstream" in out.getvalue()
    assert ledger_verify() is None
    call_command("seed_demo", stdout=io.StringIO())  # idempotent: nothing doubles
    assert VersionLineage.objects.count() == 1 and RevenueShare.objects.count() == 1
    assert Contract.objects.filter(buyer=share.contract.buyer, listing=share.contract.listing).count() == 1
