"""Quality guarantees: validated against the listed version, frozen into contract, licence and
manifest; a quality dispute re-checks the delivered bytes (worker code path, in-process)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage

from exchange.errors import InvalidInput
from exchange.models import Account, AuditEvent, Contract, Dispute, Listing, Offer
from exchange.services import catalog, ledger, recheck
from exchange.services.claims import ClaimBusy
from exchange.services.disputes import dispute_decide, dispute_open
from tests.factories import make_dataset, passed_version

PRICE = 10000
# csv_bytes(20): 20 rows, no empty text, labels 14 pos / 6 neg
GUARANTEE = {"min_score": 50, "min_rows": 20, "max_null_share": {"text": 0.0}, "label_tolerance_pp": 5,
             "no_undeclared_personal_data": True}
BAD_DATA = ("id,text,label\n" + "".join(f"{i},{'' if i % 2 else 'ok'},pos\n" for i in range(1, 11))).encode()


@pytest.fixture
def delivered(paid_contract, build_now):
    def _make(**kwargs):
        kwargs.setdefault("acceptance_days", 3)
        kwargs.setdefault("guarantee", GUARANTEE)
        contract = paid_contract(price_fen=PRICE, **kwargs)
        build_now(contract.delivery)
        contract.refresh_from_db()
        return contract
    return _make


def replace_delivered_data(delivery, content: bytes) -> None:
    """Rewrite the stored package's data file: a delivery whose bytes differ from the listed version."""
    path = default_storage.path(delivery.package_name)
    with zipfile.ZipFile(path) as old:
        entries = [(info, old.read(info.filename)) for info in old.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as new:
        for info, data in entries:
            new.writestr(info, content if info.filename == delivery.data_path else data)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def _balances(contract):
    return (ledger.wallet_of(contract.buyer).balance, ledger.wallet_of(contract.seller).balance,
            ledger.system_account(Account.Kind.ESCROW).balance)


def run_recheck(dispute) -> str:
    claim = recheck.recheck_claim(dispute_id=str(dispute.pk))
    assert claim is not None
    return recheck.recheck_run(claim=claim)


# --- At the offer -------------------------------------------------------------------------
@pytest.fixture
def draft_listing(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    return actor, catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))


def test_a_guarantee_the_listed_version_meets_is_frozen_with_its_label_shares(draft_listing):
    actor, listing = draft_listing
    offer = catalog.offer_create(actor=actor, listing=listing, name="Std", price_fen=100, guarantee=GUARANTEE)
    assert offer.guarantee["format"] == "shujiao-guarantee/1"
    assert offer.guarantee["min_rows"] == 20
    assert offer.guarantee["label_shares"] == {"pos": 0.7, "neg": 0.3}
    assert offer.guarantee["personal_data_declared"] is False


def test_a_guarantee_the_listed_version_fails_is_refused(draft_listing):
    actor, listing = draft_listing
    with pytest.raises(InvalidInput) as exc:
        catalog.offer_create(actor=actor, listing=listing, name="Std", price_fen=100,
                             guarantee={"min_rows": 1000, "min_score": 50})
    assert exc.value.code == "guarantee_fails_listed"
    assert exc.value.fields["guarantee"] == ["The listed version fails: ≥ 1000 rows (listed version: 20 rows)."]
    assert not Offer.objects.filter(listing=listing).exists()


def test_a_malformed_guarantee_names_the_field_beside_other_errors(draft_listing):
    actor, listing = draft_listing
    with pytest.raises(InvalidInput) as exc:
        catalog.offer_create(actor=actor, listing=listing, name="", price_fen=100,
                             guarantee={"max_null_share": {"nope": 0.1}})
    assert exc.value.fields["name"] and exc.value.fields["guarantee.max_null_share"] == [
        "No column named 'nope'; columns: id, text, label."]


def test_the_guarantee_is_in_the_contract_licence_and_manifest(delivered):
    contract = delivered()
    offer = Offer.objects.get(pk=contract.offer_id)
    assert contract.guarantee == offer.guarantee
    assert "9. Quality guarantee. The licensor guarantees that the delivered data meets: quality score at least 50" \
        in contract.licence_text
    with default_storage.open(contract.delivery.package_name, "rb") as f, zipfile.ZipFile(f) as z:
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["guarantee"] == offer.guarantee


def test_no_guarantee_is_null_in_the_manifest(delivered):
    contract = delivered(guarantee=None)
    assert contract.delivery.manifest["guarantee"] is None
    assert "9. Quality guarantee. None" in contract.licence_text


# --- The re-check ---------------------------------------------------------------------------
def test_delivered_bytes_that_fail_the_guarantee_refund_the_buyer_automatically(delivered, actor_for):
    contract = delivered()
    replace_delivered_data(contract.delivery, BAD_DATA)
    dispute = dispute_open(actor=actor_for(contract.buyer), contract_id=contract.pk, kind="quality_below_guarantee",
                           text="Half the texts are empty.")
    assert dispute.status == "rechecking"
    assert run_recheck(dispute) == "refunded"
    dispute.refresh_from_db()
    contract.refresh_from_db()
    assert (dispute.status, dispute.recheck_passed, contract.status) == ("refunded", False, "refunded")
    failed = sorted(c["name"] for c in dispute.recheck_result["checks"] if not c["passed"])
    assert failed == ["label_share:neg", "label_share:pos", "max_null_share:text", "min_rows"]
    assert dispute.recheck_report["rows"] == 10
    assert contract.delivery.status == "revoked"
    assert _balances(contract) == (2 * PRICE, 0, 0)
    assert Listing.objects.get(pk=contract.listing_id).flagged_at is not None
    assert ledger.ledger_verify() is None
    actions = list(AuditEvent.objects.filter(object_id=str(dispute.pk)).order_by("seq").values_list("action", flat=True))
    assert actions == ["dispute.opened", "dispute.rechecked", "dispute.decided"]
    # a redelivered task finds nothing to do: one refund at most
    assert recheck.recheck_claim(dispute_id=str(dispute.pk)) is None


def test_a_guarantee_that_holds_goes_to_staff_who_grant_a_partial_refund(delivered, actor_for, staff_actor):
    contract = delivered()
    dispute = dispute_open(actor=actor_for(contract.buyer), contract_id=contract.pk, kind="quality_below_guarantee",
                           text="The labels look wrong to us.")
    with pytest.raises(Exception) as exc:  # staff wait for the re-check
        dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="reject", reason="Fine.")
    assert getattr(exc.value, "code", "") == "recheck_running"
    assert run_recheck(dispute) == "passed"
    dispute.refresh_from_db()
    assert (dispute.status, dispute.recheck_passed) == ("open", True)
    assert Contract.objects.get(pk=contract.pk).status == "disputed"
    dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="partial_refund", refund_fen=1000,
                   reason="Guarantee held, but some labels are doubtful.")
    contract.refresh_from_db()
    assert contract.status == "partially_refunded"
    assert _balances(contract) == (PRICE + 1000, 9000 - 450, 0)
    assert ledger.ledger_verify() is None


def test_a_live_recheck_claim_is_busy_and_a_lost_claim_stores_nothing(delivered, actor_for):
    contract = delivered()
    dispute = dispute_open(actor=actor_for(contract.buyer), contract_id=contract.pk, kind="quality_below_guarantee",
                           text="Please check the rows.")
    first = recheck.recheck_claim(dispute_id=str(dispute.pk))
    with pytest.raises(ClaimBusy):
        recheck.recheck_claim(dispute_id=str(dispute.pk))
    Dispute.objects.filter(pk=dispute.pk).update(recheck_token="someone-else")
    assert recheck.recheck_run(claim=first) == "claim lost"
    dispute.refresh_from_db()
    assert dispute.recheck_passed is None and dispute.status == "rechecking"
