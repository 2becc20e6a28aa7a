"""Subscription fixtures: the delivery fixtures (signing key, paid contract, in-process build) and
helpers to publish a version and read a package the way a buyer would."""

from __future__ import annotations

import subprocess
import zipfile

import pytest

from tests.delivery.conftest import build_now, paid_contract, signing_key  # noqa: F401 — shared fixtures
from tests.factories import csv_bytes, passed_version
from tests.revisions.test_revisions import v2_bytes

SUBSCRIPTION = {"kind": "subscription"}


def owner(org):
    return org.memberships.select_related("user").first().user


@pytest.fixture
def subscription(paid_contract, build_now):  # noqa: F811
    """A listing at v1 with a paid subscription contract whose initial delivery is built."""
    def _make(**kwargs):
        contract = paid_contract(content=csv_bytes(20), offer=SUBSCRIPTION, **kwargs)
        build_now(contract.delivery)
        assert contract.delivery.status == "ready", contract.delivery.error
        contract.refresh_from_db()
        return contract

    return _make


@pytest.fixture
def one_off_buyer(make_firm, actor_for, staff_actor):
    """A second firm that bought a one-off offer of the same listing."""
    from exchange.services import catalog
    from exchange.services.trading import access_request_create, wallet_topup

    def _make(listing):
        seller = actor_for(listing.dataset.owner)
        offer = catalog.offer_create(actor=seller, listing=listing, name="One-off", price_fen=5000,
                                     access_mode="instant", acceptance_days=0)
        buyer = make_firm("一次性 One-off Buyer")
        wallet_topup(actor=staff_actor, organization=buyer, amount_fen=10000, memo="bank ref 2")
        request = access_request_create(actor=actor_for(buyer), offer=offer, purpose="Evaluating the reviews.")
        request.refresh_from_db()
        return request.contract

    return _make


@pytest.fixture
def publish_v2(actor_for, django_capture_on_commit_callbacks):
    """The seller publishes v2 (same schema: live at once); returns the revision. Tasks run after commit."""
    from exchange.services import revisions

    def _publish(listing, content: bytes | None = None, changelog: str = "Relabelled row 1, fixed row 2"):
        seller = actor_for(listing.dataset.owner)
        version = passed_version(seller, listing.dataset, content or v2_bytes())
        with django_capture_on_commit_callbacks(execute=True):
            return revisions.listing_publish_version(actor=seller, listing=listing, version=version,
                                                     changelog=changelog)

    return _publish


def unpack(client, delivery, tmp_path):
    """Download the package as the buyer, with the signing key beside it; returns the unpacked folder."""
    client.force_login(owner(delivery.contract.buyer))
    link = client.post(f"/api/v1/deliveries/{delivery.pk}/links/")
    assert link.status_code == 201, link.content
    response = client.get(link.json()["url"].removeprefix("http://testserver"))
    assert response.status_code == 200
    data = b"".join(response.streaming_content) if response.streaming else response.content
    folder = tmp_path / str(delivery.pk)
    folder.mkdir()
    (tmp_path / f"exchange-{delivery.key_id}.pem").write_bytes(
        client.get(f"/.well-known/shujiao/keys/{delivery.key_id}.pem").content)
    (folder / "package.zip").write_bytes(data)
    out = folder / "out"
    with zipfile.ZipFile(folder / "package.zip") as zf:
        zf.extractall(out)
    return out


def verify_with_stock_tools(out, kid) -> None:
    """openssl checks the manifest's signature, sha256sum every file it lists."""
    sig = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", f"../../exchange-{kid}.pem", "-rawin",
                          "-in", "manifest.json", "-sigfile", "manifest.sig"], cwd=out, capture_output=True, text=True)
    assert sig.returncode == 0 and "Signature Verified Successfully" in sig.stdout, sig.stdout + sig.stderr
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    return sums.stdout.splitlines()
