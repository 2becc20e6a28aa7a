"""Fingerprinted and age-encrypted deliveries, opened with the stock tools a buyer has."""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import zipfile

import pytest

from exchange.errors import Conflict, Forbidden, InvalidInput
from exchange.models import AuditEvent
from exchange.services import age_recipients as age_svc
from exchange.services.delivery_protect import contract_key_for, selection_key_for
from workers.fingerprint import Plan, trace

SCHEMA = {"fields": [{"name": "meter_id", "type": "integer"}, {"name": "kwh", "type": "number"},
                     {"name": "tariff", "type": "number"}, {"name": "label", "type": "string"}],
          "primaryKey": ["meter_id"], "labelField": "label"}
FP_OFFER = {"fingerprint": True, "fingerprint_gamma": 20}


def readings(rows: int = 3000) -> bytes:
    rnd = random.Random(11)
    lines = ["meter_id,kwh,tariff,label"] + [
        f"{i},{rnd.uniform(0, 900):.2f},{rnd.choice(['0.52', '0.61', '0.83'])},{rnd.choice(['home', 'shop'])}"
        for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def _zip_of(delivery) -> zipfile.ZipFile:
    from django.core.files.storage import default_storage

    with default_storage.open(delivery.package_name, "rb") as f:
        return zipfile.ZipFile(io.BytesIO(f.read()))


def test_a_fingerprinted_delivery_marks_the_copy_within_the_bound_and_says_so(ready_delivery):
    original = readings()
    delivery = ready_delivery(content=original, schema=SCHEMA, offer=FP_OFFER)
    contract, version = delivery.contract, delivery.contract.dataset_version
    manifest = delivery.manifest
    assert manifest["fingerprint"] == {"scheme": "shujiao-parity/2", "bound": contract.offer.fingerprint_bound}
    assert "1 row in 20" in manifest["fingerprint"]["bound"]
    assert manifest["source_sha256"] == version.sha256
    zf = _zip_of(delivery)
    data = zf.read(delivery.data_path)
    entry = next(f for f in manifest["files"] if f["path"] == delivery.data_path)
    assert entry["sha256"] == hashlib.sha256(data).hexdigest() != version.sha256
    assert entry["size"] == len(data)
    before, after = original.decode().splitlines(), data.decode().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert 0 < len(changed) <= (len(before) - 1) // 20
    for a, b in changed:  # only kwh and tariff move, by one unit of their last decimal
        (ia, ka, ta, la), (ib, kb, tb, lb) = a.split(","), b.split(",")
        assert (ia, la) == (ib, lb)
        assert abs(round(float(ka) * 100) - round(float(kb) * 100)) + abs(round(float(ta) * 100) - round(float(tb) * 100)) >= 1
        assert abs(float(ka) - float(kb)) <= 0.0100001 and abs(float(ta) - float(tb)) <= 0.0100001
    # The licence says it, the secret is nowhere in what the buyer or the database gets.
    assert "10. Fingerprint." in zf.read("LICENSE.txt").decode()
    from django.conf import settings
    secret = settings.FINGERPRINT_SECRET
    assert secret not in json.dumps(manifest) and secret not in json.dumps(delivery.fingerprint)
    assert delivery.fingerprint["marks"]["rows_changed"] == len(changed)
    # The buyer's own copy traces back to the contract.
    plan = Plan.from_json(delivery.fingerprint["plan"])
    result = trace(io.BytesIO(data), "csv", plan=plan, selection=selection_key_for(version),
                   candidates={str(contract.pk): contract_key_for(contract)})
    assert [s.contract for s in result.named] == [str(contract.pk)]


def test_a_later_copy_of_the_same_version_reuses_the_recorded_plan_and_marks_the_same(ready_delivery, monkeypatch):
    from django.core.files.storage import default_storage

    import workers.fingerprint
    from exchange.services import delivery_protect

    delivery = ready_delivery(content=readings(), schema=SCHEMA, offer=FP_OFFER)
    contract, version = delivery.contract, delivery.contract.dataset_version
    assert delivery.fingerprint["plan_key"] == delivery_protect.plan_key(
        version, version.dataset.schema, contract.offer.fingerprint_options())

    def no_scan(*args, **kwargs):
        raise AssertionError("the plan was recorded: the stored file need not be scanned again")

    monkeypatch.setattr(workers.fingerprint, "plan_file", no_scan)
    with default_storage.open(version.file.name, "rb") as src:
        copy = delivery_protect.fingerprinted_copy(contract=contract, version=version, source=src)
    try:
        assert copy.record["plan"] == delivery.fingerprint["plan"]
        data = copy.file.read()
        assert hashlib.sha256(data).hexdigest() == copy.sha256 and len(data) == copy.size
        assert data == _zip_of(delivery).read(delivery.data_path)  # the same contract: the same marks
    finally:
        copy.close()


def test_a_delivery_without_fingerprint_carries_fingerprint_null_and_the_stored_bytes(ready_delivery):
    delivery = ready_delivery(content=readings(100), schema=SCHEMA)
    assert delivery.manifest["fingerprint"] is None and delivery.fingerprint is None
    assert _zip_of(delivery).read(delivery.data_path) == readings(100)


@pytest.mark.parametrize(("offer", "field"), [({"fingerprint_gamma": 2}, "fingerprint_gamma"),
                                              ({"fingerprint_exclude": ["nope"]}, "fingerprint_exclude")])
def test_bad_fingerprint_choices_are_refused_naming_the_field(paid_contract, offer, field):
    with pytest.raises(InvalidInput) as exc:
        paid_contract(content=readings(50), schema=SCHEMA, offer={**FP_OFFER, **offer})
    assert field in exc.value.fields


# --- age -----------------------------------------------------------------------------
def _keygen(tmp_path, name: str) -> tuple[str, str]:
    path = tmp_path / name
    out = subprocess.run(["age-keygen", "-o", str(path)], capture_output=True, text=True, check=True)
    recipient = next(w for w in (out.stderr + out.stdout).split() if w.startswith("age1"))
    return str(path), recipient


def _register(actor, org, tmp_path, name="key.txt"):
    identity, recipient = _keygen(tmp_path, name)
    rec = age_svc.age_recipient_add(actor=actor, organization=org, recipient=recipient, label="ops laptop")
    answer = subprocess.run(["age", "-d", "-i", identity], input=rec.challenge, capture_output=True, text=True, check=True)
    return identity, age_svc.age_recipient_verify(actor=actor, organization=org, recipient_id=rec.pk,
                                                  answer=answer.stdout)


def test_registering_a_recipient_needs_the_decrypted_challenge(make_firm, actor_for, tmp_path):
    org = make_firm("买方 Buyer Co")
    actor = actor_for(org)
    identity, recipient = _keygen(tmp_path, "k.txt")
    rec = age_svc.age_recipient_add(actor=actor, organization=org, recipient=recipient)
    assert rec.status == "pending" and rec.challenge.startswith("-----BEGIN AGE ENCRYPTED FILE-----")
    assert "shujiao-age-challenge" not in rec.challenge + rec.challenge_sha256
    with pytest.raises(Forbidden, match="not the decrypted challenge"):
        age_svc.age_recipient_verify(actor=actor, organization=org, recipient_id=rec.pk, answer="guess")
    rec.refresh_from_db()
    assert rec.verified_at is None and rec.challenge_attempts == 1
    plain = subprocess.run(["age", "-d", "-i", identity], input=rec.challenge, capture_output=True, text=True,
                           check=True).stdout
    rec = age_svc.age_recipient_verify(actor=actor, organization=org, recipient_id=rec.pk, answer=plain + "\n")
    assert rec.status == "verified"
    actions = list(AuditEvent.objects.filter(object_id=str(rec.pk)).order_by("seq").values_list("action", flat=True))
    assert actions == ["age_recipient.added", "age_recipient.challenge_failed", "age_recipient.verified"]
    with pytest.raises(Conflict):
        age_svc.age_recipient_add(actor=actor, organization=org, recipient=recipient)


@pytest.mark.parametrize(("value", "message"), [
    ("", "starting with age1"), ("AGE-SECRET-KEY-1QQQ", "secret identity"), ("ssh-ed25519 AAAA", "X25519"),
    ("age1" + "q" * 58, "checksum"), ("age1abc", "58 lowercase"),
])
def test_a_bad_recipient_is_refused_with_a_reason(make_firm, actor_for, value, message):
    org = make_firm("买方 Buyer Co")
    with pytest.raises(InvalidInput, match=message):
        age_svc.age_recipient_add(actor=actor_for(org), organization=org, recipient=value)
    assert not org.age_recipients.exists()


def test_an_encrypted_delivery_opens_only_with_the_buyers_identity_and_verifies(
        make_firm, actor_for, paid_contract, build_now, tmp_path):
    from django.core.files.storage import default_storage

    buyer = make_firm("买方 Buyer Co")
    identity, rec = _register(actor_for(buyer), buyer, tmp_path)
    contract = paid_contract(content=readings(500), schema=SCHEMA, offer=FP_OFFER, buyer=buyer)
    delivery = contract.delivery
    build_now(delivery)
    assert delivery.status == "ready", delivery.error
    assert delivery.package_name.endswith(".zip.age") and delivery.encrypted_to == [rec.recipient]
    with default_storage.open(delivery.package_name, "rb") as f:
        sealed = f.read()
    assert sealed.startswith(b"age-encryption.org/v1\n")
    assert hashlib.sha256(sealed).hexdigest() == delivery.package_sha256 and len(sealed) == delivery.package_size
    (tmp_path / "pkg.zip.age").write_bytes(sealed)
    subprocess.run(["age", "-d", "-i", identity, "-o", str(tmp_path / "pkg.zip"), str(tmp_path / "pkg.zip.age")],
                   check=True)
    out = tmp_path / "out"
    zipfile.ZipFile(tmp_path / "pkg.zip").extractall(out)
    from exchange.models import SigningKey
    (tmp_path / "key.pem").write_text(SigningKey.objects.get(kid=delivery.key_id).public_key_pem)
    subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "key.pem"), "-rawin",
                    "-in", "manifest.json", "-sigfile", "manifest.sig"], cwd=out, check=True, capture_output=True)
    subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, check=True, capture_output=True)
    other, _ = _keygen(tmp_path, "other.txt")
    wrong = subprocess.run(["age", "-d", "-i", other, str(tmp_path / "pkg.zip.age")], capture_output=True)
    assert wrong.returncode != 0 and b"no identity matched" in wrong.stderr.lower()


def test_a_revoked_recipient_receives_plain_packages_again(make_firm, actor_for, ready_delivery, tmp_path):
    buyer = make_firm("买方 Buyer Co")
    actor = actor_for(buyer)
    _, rec = _register(actor, buyer, tmp_path)
    age_svc.age_recipient_revoke(actor=actor, organization=buyer, recipient_id=rec.pk)
    delivery = ready_delivery(content=readings(50), schema=SCHEMA, buyer=buyer)
    assert delivery.package_name.endswith(".zip") and delivery.encrypted_to == []


def test_the_buyer_sees_encryption_and_fingerprint_on_page_api_and_download(
        make_firm, actor_for, paid_contract, build_now, tmp_path, client):
    from tests.delivery.test_downloads import owner

    buyer = make_firm("买方 Buyer Co")
    _, rec = _register(actor_for(buyer), buyer, tmp_path)
    delivery = paid_contract(content=readings(300), schema=SCHEMA, offer=FP_OFFER, buyer=buyer).delivery
    build_now(delivery)
    client.force_login(owner(buyer))
    page = client.get(f"/deliveries/{delivery.pk}/").content.decode()
    assert "age-encrypted" in page and rec.recipient in page and "SHA-256 of the ciphertext" in page
    assert "age -d -i your-age-identity.txt -o shujiao-" in page and ".zip.age" in page
    assert "Your copy carries marks keyed to this contract" in page
    row = client.get(f"/api/v1/deliveries/{delivery.pk}/").json()
    assert row["encrypted_to"] == [rec.recipient] and row["package_sha256"] == delivery.package_sha256
    assert row["fingerprint"] == delivery.manifest["fingerprint"]
    link = client.post(f"/deliveries/{delivery.pk}/download/")["Location"]
    download = client.get(link)
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].endswith('.zip.age"')
    body = b"".join(download.streaming_content)
    assert body.startswith(b"age-encryption.org/v1") and hashlib.sha256(body).hexdigest() == delivery.package_sha256
    ranged = client.get(link, HTTP_RANGE="bytes=0-20")
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == body[:21]


def test_text_only_data_is_marked_with_trailing_spaces_when_the_seller_allows_it(ready_delivery):
    from tests.factories import csv_bytes

    original = csv_bytes(3000)
    delivery = ready_delivery(content=original, offer={"fingerprint": True, "fingerprint_gamma": 10,
                                                       "fingerprint_text": True})
    assert "trailing space" in delivery.manifest["fingerprint"]["bound"]
    data = _zip_of(delivery).read(delivery.data_path)
    changed = [(a, b) for a, b in zip(original.splitlines(), data.splitlines(), strict=True) if a != b]
    assert 0 < len(changed) <= 3000 // 10
    assert all(a.split(b",")[0] == b.split(b",")[0] and a.replace(b" ,", b",") == b.replace(b" ,", b",")
               for a, b in changed)
    plan = Plan.from_json(delivery.fingerprint["plan"])
    contract = delivery.contract
    result = trace(io.BytesIO(data), "csv", plan=plan, selection=selection_key_for(contract.dataset_version),
                   candidates={str(contract.pk): contract_key_for(contract)})
    assert [s.contract for s in result.named] == [str(contract.pk)]


def test_without_the_fingerprint_secret_the_build_waits_instead_of_delivering_unmarked(paid_contract, settings):
    from exchange.services import delivery as svc

    delivery = paid_contract(content=readings(50), schema=SCHEMA, offer=FP_OFFER).delivery
    settings.FINGERPRINT_SECRET = ""
    claim = svc.delivery_claim(delivery_id=str(delivery.pk))
    with pytest.raises(svc.TransientBuildError, match="FINGERPRINT_SECRET"):
        svc.delivery_build(claim=claim)
    delivery.refresh_from_db()
    assert delivery.status == "queued" and "FINGERPRINT_SECRET is not set" in delivery.error
    assert delivery.package_name == ""
