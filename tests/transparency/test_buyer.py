"""A buyer's view: keep the checkpoint of a delivered package, let more trades happen, then
prove with only the published key and REST proofs that the new log extends the old one and
still holds the buyer's own delivery event — the last step in a Python without Django."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.models import AuditEvent
from tests.delivery.test_downloads import api_key
from workers import tlog

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

VERIFY_WITHOUT_DJANGO = r"""
import json, sys
from workers import tlog
d = json.load(sys.stdin)
keys = d["keys"].splitlines()
old = tlog.open_checkpoint(d["old"], keys, origin="shujiao.example/audit")
new = tlog.open_checkpoint(d["new"], keys, origin="shujiao.example/audit")
tlog.verify_consistency(old.size, new.size, old.root, new.root, [tlog.decode_hash(h) for h in d["consistency"]])
leaf = tlog.leaf_hash(d["canonical"].encode("utf-8"))
tlog.verify_inclusion(d["index"], new.size, leaf, [tlog.decode_hash(h) for h in d["inclusion"]], new.root)
assert not any(m == "django" or m.startswith("django.") for m in sys.modules), "django was imported"
print(f"OK {old.size} -> {new.size}")
"""


def test_buyer_proves_the_log_grew_honestly_and_still_holds_its_delivery(ready_delivery, paid_contract, build_now,
                                                                       client, make_firm):
    delivery = ready_delivery()
    old_note = delivery.manifest["audit_checkpoint"]
    queued = AuditEvent.objects.get(action="delivery.queued", object_id=str(delivery.pk))
    keys = client.get("/.well-known/shujiao/audit/key")
    assert keys.status_code == 200 and keys["Content-Type"].startswith("text/plain")
    old = tlog.open_checkpoint(old_note, keys.content.decode().splitlines())
    assert old.size >= queued.seq  # the manifest's anchor already holds the delivery's creation

    # more trades happen
    other = build_now(paid_contract(buyer=make_firm("Later Buyer"), seller=make_firm("Later Seller")).delivery)
    assert other is not None

    new_note = client.get("/.well-known/shujiao/audit/checkpoint")
    assert new_note.status_code == 200 and new_note["Content-Type"] == "text/plain; charset=utf-8"
    new = tlog.open_checkpoint(new_note.content.decode(), keys.content.decode().splitlines())
    assert new.size > old.size

    consistency = client.get(f"/api/v1/audit/consistency/?old_size={old.size}&new_size={new.size}")
    assert consistency.status_code == 200
    tlog.verify_consistency(old.size, new.size, old.root, new.root,
                            [bytes.fromhex(h) for h in consistency.json()["hashes"]])

    auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key(delivery.contract.buyer)}"}
    mine = client.get("/api/v1/audit/events/?action=delivery.queued", **auth).json()["results"]
    (row,) = [r for r in mine if r["object_id"] == str(delivery.pk)]
    event = client.get(f"/api/v1/audit/events/{row['seq']}/", **auth).json()
    canonical = event["canonical"].encode("utf-8")
    assert base64.b64decode(event["canonical_base64"]) == canonical
    assert __import__("hashlib").sha256(canonical).hexdigest() == event["hash"]
    proof = client.get(f"/api/v1/audit/events/{row['seq']}/proof/?tree_size={new.size}&encoding=base64", **auth).json()
    assert (proof["index"], proof["tree_size"]) == (row["seq"] - 1, new.size)
    tlog.verify_inclusion(proof["index"], new.size, tlog.leaf_hash(canonical),
                          [base64.b64decode(h) for h in proof["hashes"]], new.root)

    # the same checks in a Python that imports nothing of the project but workers.tlog
    payload = json.dumps({"keys": keys.content.decode(), "old": old_note, "new": new_note.content.decode(),
                          "consistency": consistency.json()["hashes"], "canonical": event["canonical"],
                          "index": proof["index"], "inclusion": proof["hashes"]})
    run = subprocess.run([sys.executable, "-c", VERIFY_WITHOUT_DJANGO], input=payload, capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"OK {old.size} -> {new.size}"

    # a tampered proof fails there too
    bad = json.loads(payload)
    bad["canonical"] = bad["canonical"].replace("delivery.queued", "delivery.forged")
    run = subprocess.run([sys.executable, "-c", VERIFY_WITHOUT_DJANGO], input=json.dumps(bad), capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 1 and "is not included in the tree" in run.stderr


def _split_note(note: str) -> tuple[bytes, bytes]:
    """The signed text and the raw Ed25519 signature, read straight from the note bytes (no workers.tlog)."""
    text, _, sig_line = note.rpartition("\n\n")
    blob = base64.b64decode(sig_line.rstrip("\n").split(" ")[2])
    return (text + "\n").encode("utf-8"), blob[4:]


def test_checkpoint_signature_verifies_with_cryptography_and_openssl(ready_delivery, client, tmp_path):
    import hashlib

    note = ready_delivery().manifest["audit_checkpoint"]
    (vkey,) = client.get("/.well-known/shujiao/audit/key").content.decode().splitlines()
    name, key_hex, key_b64 = vkey.split("+", 2)
    typed = base64.b64decode(key_b64)
    assert typed[0] == 1 and len(typed) == 33
    assert hashlib.sha256(name.encode() + b"\n\x01" + typed[1:]).digest()[:4].hex() == key_hex
    text, sig = _split_note(note)
    assert text.decode().split("\n")[0] == name == "shujiao.example/audit"
    assert note.rpartition("\n\n")[2].startswith(f"\u2014 {name} ")
    assert base64.b64decode(note.rpartition("\n\n")[2].split(" ")[2])[:4].hex() == key_hex
    Ed25519PublicKey.from_public_bytes(typed[1:]).verify(sig, text)  # raises if it does not verify

    if not shutil.which("openssl"):
        pytest.fail("openssl is needed for the stock-tool check")
    from cryptography.hazmat.primitives import serialization

    pem = Ed25519PublicKey.from_public_bytes(typed[1:]).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "key.pem").write_bytes(pem)
    (tmp_path / "text").write_bytes(text)
    (tmp_path / "sig").write_bytes(sig)
    ok = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "key.pem", "-rawin", "-in", "text",
                         "-sigfile", "sig"], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verified Successfully" in ok.stdout
    (tmp_path / "text").write_bytes(text.replace(b"\n", b"\n\n", 1))
    bad = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "key.pem", "-rawin", "-in", "text",
                          "-sigfile", "sig"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0
