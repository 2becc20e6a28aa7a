"""The demo (seed_demo): the speech listing has a subscription offer whose subscriber holds the v1
delivery and the v2 update with the diff."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from exchange.models import Delivery, Offer

pytestmark = pytest.mark.timeout(300)


def test_demo_subscriber_has_both_deliveries(transactional_db, purge_broker):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    offer = Offer.objects.get(kind="subscription")
    assert offer.listing.version.number == 2
    deliveries = list(Delivery.objects.filter(contract__offer=offer).select_related("dataset_version")
                      .order_by("dataset_version__number"))
    assert [(d.dataset_version.number, d.initial, d.status) for d in deliveries] == [(1, True, "ready"),
                                                                                   (2, False, "ready")]
    assert deliveries[1].manifest["update"]["from_version"] == 1
    assert "metadata/diff.json" in [f["path"] for f in deliveries[1].manifest["files"]]
    # one-off buyers of the speech data got no update
    assert not Delivery.objects.filter(contract__listing=offer.listing, contract__offer__kind="one_off",
                                       initial=False).exists()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 — idempotent
    assert Delivery.objects.filter(contract__offer=offer).count() == 2
