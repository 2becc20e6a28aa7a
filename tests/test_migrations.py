"""Migrations with a data step, run on rows made the way the schema stood before them.

``0011_subscriptions`` turned ``Delivery.contract`` from a one-to-one into a foreign key and gave
every delivery the version it packages (``fill_versions``: the contract's version), ``initial``
and ``diff_from``. The rows are written through the historical models of ``0011_lineage``, the
migration is applied, and the new shape is read back through the historical models of
``0011_subscriptions`` and the database's own constraints. The database ends migrated to the
newest migrations whatever happens.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = ("exchange", "0011_lineage")
AFTER = ("exchange", "0011_subscriptions")


def _migrate(target):
    """Migrate to ``target`` (a list of nodes) and return the historical apps at that point."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return MigrationExecutor(connection).loader.project_state(target).apps


@pytest.fixture
def migrator(transactional_db):
    """Yields a migrate function; afterwards the database is back on the newest migrations."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    yield _migrate
    _migrate(latest)


def _old_rows(apps):
    """Two firms, one dataset with versions 1 and 2, and a contract with its delivery on each version,
    as 0011_lineage stored them (the delivery knows only its contract)."""
    Organization = apps.get_model("exchange", "Organization")
    seller = Organization.objects.create(name="卖方 Seller Co", credit_code="91350100M000100Y43")
    buyer = Organization.objects.create(name="买方 Buyer Co", credit_code="91110108MA01C2B33K")
    dataset = apps.get_model("exchange", "Dataset").objects.create(owner=seller, title="Reviews", category="text",
                                                                   kind="cleaned")
    Version = apps.get_model("exchange", "DatasetVersion")
    versions = [Version.objects.create(dataset=dataset, number=n, file=f"datasets/t/{n}.csv",
                                       original_filename=f"v{n}.csv", format="csv", byte_size=100 * n,
                                       sha256=hashlib.sha256(b"v%d" % n).hexdigest(), status="passed")
                for n in (1, 2)]
    listing = apps.get_model("exchange", "Listing").objects.create(dataset=dataset, version=versions[1],
                                                                   title="Reviews", status="published")
    offer = apps.get_model("exchange", "Offer").objects.create(listing=listing, name="Standard", price_fen=1000)
    now = timezone.now()
    deliveries = {}
    for version in versions:
        request = apps.get_model("exchange", "AccessRequest").objects.create(
            buyer=buyer, seller=seller, offer=offer, listing=listing, purpose="Training a review classifier.",
            status="approved")
        contract = apps.get_model("exchange", "Contract").objects.create(
            access_request=request, buyer=buyer, seller=seller, listing=listing, offer=offer,
            dataset_version=version, price_fen=1000, commission_bp=500, purpose=request.purpose, term_days=365,
            download_limit=3, redistribution=False, licence_text="licence", licence_sha256="0" * 64,
            status="settled", paid_at=now)
        delivery = apps.get_model("exchange", "Delivery").objects.create(
            contract=contract, queued_at=now, status="ready", package_name=f"deliveries/{version.number}.zip",
            package_size=10, issued_at=now, expires_at=now + timedelta(days=365))
        deliveries[delivery.pk] = (contract.pk, version.pk)
    return deliveries


def test_0011_subscriptions_gives_each_delivery_its_contracts_version(migrator):
    old = migrator([BEFORE])
    assert "dataset_version" not in {f.name for f in old.get_model("exchange", "Delivery")._meta.get_fields()}
    assert old.get_model("exchange", "Delivery")._meta.get_field("contract").one_to_one
    made = _old_rows(old)

    new = migrator([AFTER])

    Delivery = new.get_model("exchange", "Delivery")
    assert not Delivery._meta.get_field("contract").one_to_one
    assert not Delivery._meta.get_field("dataset_version").null
    rows = {d.pk: d for d in Delivery.objects.all()}
    assert {pk: (d.contract_id, d.dataset_version_id) for pk, d in rows.items()} == made
    assert [(d.initial, d.diff_from_id) for d in rows.values()] == [(True, None), (True, None)]
    assert set(new.get_model("exchange", "Offer").objects.values_list("kind", flat=True)) == {"one_off"}
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Delivery._meta.db_table)
    assert {"delivery_once_per_contract_version", "delivery_one_initial",
            "delivery_update_has_diff_from"} <= set(constraints)

    # The new shape holds: a contract takes an update delivery of another version, not a second initial one.
    first = next(d for d in rows.values() if d.dataset_version.number == 1)
    Version = new.get_model("exchange", "DatasetVersion")
    v2 = Version.objects.get(number=2)
    v3 = Version.objects.create(dataset_id=v2.dataset_id, number=3, file="datasets/t/3.csv", original_filename="v3.csv",
                                format="csv", byte_size=300, sha256=hashlib.sha256(b"v3").hexdigest(), status="passed")
    Delivery.objects.create(contract_id=first.contract_id, dataset_version=v2, initial=False,
                            diff_from_id=first.dataset_version_id, queued_at=timezone.now())
    with pytest.raises(IntegrityError, match="delivery_one_initial"), transaction.atomic():
        Delivery.objects.create(contract_id=first.contract_id, dataset_version=v3, initial=True,
                                queued_at=timezone.now())
    assert Delivery.objects.filter(contract_id=first.contract_id).count() == 2
