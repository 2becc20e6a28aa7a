"""The audit transparency log: stored tree, checkpoints, and tampering detected against an
older checkpoint (rewritten event, deleted newest events, forked log)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from exchange.actor import Actor
from exchange.models import AuditCheckpoint, AuditEvent, AuditTreeNode, SigningKey
from exchange.services import transparency
from exchange.services.audit import audit_record, compute_hash
from workers import tlog

pytestmark = pytest.mark.django_db


def _events(n: int, tag: str = "test") -> list[AuditEvent]:
    out = []
    for i in range(n):
        with transaction.atomic():
            out.append(audit_record(actor=Actor.system(tag), action=f"{tag}.{i}", details={"i": i, "名": "数交"}))
    return out


def _leaves() -> list[bytes]:
    return [tlog.leaf_hash(transparency.leaf_data(e)) for e in AuditEvent.objects.order_by("seq")]


def _raw(sql: str, params: list) -> None:
    """Tamper the way an attacker with SQL access would (bypassing the append-only triggers)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def _cut_after(k: int) -> None:
    """Delete events #k+1… and every tree node covering them, leaving a valid shorter log."""
    _raw("DELETE FROM exchange_auditevent WHERE seq > %s", [k])
    _raw('DELETE FROM exchange_audittreenode WHERE ("index" + 1) * power(2, level) > %s', [k])


def test_stored_tree_matches_the_reference_root_at_every_size():
    _events(13)
    leaves = _leaves()
    assert transparency.tree_size() == 13
    # n leaves + every complete inner subtree: 2n - popcount(n) rows
    assert AuditTreeNode.objects.count() == 2 * 13 - bin(13).count("1")
    for size in range(14):
        assert transparency.tree_root(size) == tlog.root_of(leaves[:size])
    event = AuditEvent.objects.get(seq=5)
    assert bytes(AuditTreeNode.objects.get(level=0, index=4).hash) == tlog.leaf_hash(transparency.leaf_data(event))
    assert __import__("hashlib").sha256(transparency.leaf_data(event)).hexdigest() == event.hash == compute_hash(event)


def test_proofs_from_stored_nodes_verify():
    _events(11)
    leaves = _leaves()
    for seq in (1, 6, 11):
        p = transparency.inclusion_proof(seq=seq, size=11)
        tlog.verify_inclusion(p["index"], 11, leaves[seq - 1], p["hashes"], tlog.root_of(leaves))
    c = transparency.consistency_proof(old_size=5, new_size=11)
    tlog.verify_consistency(5, 11, tlog.root_of(leaves[:5]), tlog.root_of(leaves), c["hashes"])


def test_checkpoint_is_signed_once_per_size_and_verifies():
    _events(3)
    cp = transparency.checkpoint_sign()
    # creating the log key was audited too, and is in the tree
    assert cp.tree_size == AuditEvent.objects.count() == 4
    assert SigningKey.objects.get(purpose="audit_log").status == "active"
    assert transparency.checkpoint_sign().pk == cp.pk
    assert transparency.checkpoint_sign_if_grown() is None
    parsed = tlog.open_checkpoint(cp.note, transparency.verifier_keys(), origin="shujiao.example/audit")
    assert (parsed.size, parsed.root) == (4, transparency.tree_root(4))
    _events(2)
    grown = transparency.checkpoint_sign_if_grown()
    assert grown.tree_size == 6 and AuditCheckpoint.objects.count() == 2


def test_the_beat_task_signs_when_the_tree_grew():
    from workers.audit_tasks import sign_checkpoint

    _events(2)
    assert sign_checkpoint() == 3  # two events + the key's creation
    assert sign_checkpoint() == -1
    _events(1)
    assert sign_checkpoint() == 4


def test_intact_log_is_consistent_with_an_older_checkpoint(tmp_path, capsys):
    _events(5)
    old = transparency.checkpoint_sign()
    _events(7)
    outcome = transparency.audit_verify_checkpoint(old.note)
    assert outcome.ok and (outcome.checkpoint_size, outcome.log_size) == (6, 13)
    path = tmp_path / "cp.txt"
    path.write_text(old.note, encoding="utf-8")
    call_command("verify_audit", "--checkpoint", str(path))
    assert "consistent with checkpoint" in capsys.readouterr().out


def test_rewritten_event_is_named(tmp_path):
    """An attacker edits event #3 and recomputes the chain after it: the chain verifies, the
    stored leaf and the old checkpoint do not."""
    _events(5)
    old = transparency.checkpoint_sign()
    _events(2)
    event = AuditEvent.objects.get(seq=3)
    event.details = {"i": 2, "名": "forged"}
    prev = event.prev_hash
    for e in AuditEvent.objects.filter(seq__gte=3).order_by("seq"):
        if e.seq == 3:
            e.details = event.details
        e.prev_hash = prev
        e.hash = compute_hash(e)
        _raw("UPDATE exchange_auditevent SET details = %s, prev_hash = %s, hash = %s WHERE id = %s",
             [__import__("json").dumps(e.details, ensure_ascii=False), e.prev_hash, e.hash, e.pk])
        prev = e.hash
    from exchange.services.audit import audit_verify_chain

    assert audit_verify_chain().ok  # the chain alone no longer shows it
    outcome = transparency.audit_verify_checkpoint(old.note)
    assert not outcome.ok and outcome.broken_seq == 3
    assert "rewritten" in outcome.reason and "event #3" in outcome.reason
    path = tmp_path / "cp.txt"
    path.write_text(old.note, encoding="utf-8")
    with pytest.raises(CommandError, match="NOT consistent.*event #3"):
        call_command("verify_audit", "--checkpoint", str(path))


def test_deleted_newest_events_are_detected(tmp_path):
    _events(6)
    old = transparency.checkpoint_sign()  # size 7
    _cut_after(4)
    from exchange.services.audit import audit_verify_chain

    assert audit_verify_chain().ok  # a shorter chain is still a valid chain
    outcome = transparency.audit_verify_checkpoint(old.note)
    assert not outcome.ok and outcome.broken_seq == 5
    assert outcome.reason == ("the log has 4 events but the checkpoint covers 7: events #5–#7 were deleted "
                              "(the log was cut short)")
    path = tmp_path / "cp.txt"
    path.write_text(old.note, encoding="utf-8")
    with pytest.raises(CommandError, match="cut short"):
        call_command("verify_audit", "--checkpoint", str(path))


def test_forked_log_is_detected():
    """The newest events are replaced by others, chain and tree rebuilt properly: only the
    buyer's checkpoint shows the fork."""
    _events(6)
    old = transparency.checkpoint_sign()  # size 7
    _cut_after(5)
    _events(4, tag="fork")
    from exchange.services.audit import audit_verify_chain

    assert audit_verify_chain().ok and transparency.tree_size() == 9
    outcome = transparency.audit_verify_checkpoint(old.note)
    assert not outcome.ok
    assert "first 7 events no longer hash to the checkpoint's root" in outcome.reason and "forked" in outcome.reason
    # and the exchange refuses to sign a checkpoint that is not an extension of its last one
    with pytest.raises(Exception, match="no longer matches its signed checkpoint"):
        transparency.checkpoint_sign()


def test_edited_stored_leaf_is_detected():
    _events(4)
    old = transparency.checkpoint_sign()
    _raw("UPDATE exchange_audittreenode SET hash = %s WHERE level = 0 AND \"index\" = 1", [b"\x00" * 32])
    outcome = transparency.audit_verify_checkpoint(old.note)
    assert not outcome.ok and outcome.broken_seq == 2 and "edited after it was logged" in outcome.reason


def test_forged_or_foreign_checkpoint_is_refused():
    _events(2)
    cp = transparency.checkpoint_sign()
    forged = cp.note.replace(f"\n{cp.tree_size}\n", f"\n{cp.tree_size + 1}\n")
    outcome = transparency.audit_verify_checkpoint(forged)
    assert not outcome.ok and "does not verify" in outcome.reason
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    foreign = tlog.sign_checkpoint(tlog.Checkpoint("other.example/log", 1, b"\x01" * 32), "other.example/log", other)
    outcome = transparency.audit_verify_checkpoint(foreign, trusted_keys=[tlog.verifier_key("other.example/log", other)])
    assert not outcome.ok and "is for log 'other.example/log'" in outcome.reason


@pytest.mark.services
def test_postgres_refuses_update_and_delete_of_tree_nodes_and_checkpoints():
    assert connection.vendor == "postgresql"
    _events(1)
    transparency.checkpoint_sign()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditTreeNode.objects.filter(level=0).update(hash=b"\x00" * 32)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.all().delete()


def test_rotating_the_log_key_keeps_old_checkpoints_verifiable(client, capsys):
    _events(2)
    old = transparency.checkpoint_sign()
    call_command("signing_key", "rotate", "--purpose", "audit_log")
    assert "is now the active signing key" in capsys.readouterr().out
    new = transparency.checkpoint_sign()
    assert new.key_id != old.key_id and new.tree_size > old.tree_size
    published = client.get("/.well-known/shujiao/audit/key").content.decode().splitlines()
    assert len(published) == 2
    assert tlog.open_checkpoint(old.note, published).size == old.tree_size
    assert tlog.open_checkpoint(new.note, published[:1]).size == new.tree_size  # the active key is listed first
    with pytest.raises(tlog.ProofError, match="no signature"):
        tlog.open_checkpoint(old.note, published[:1])
    # delivery keys are untouched by the log's rotation, and the log key is not in the delivery JWKS
    assert not SigningKey.objects.filter(purpose="delivery").exists()
    assert client.get("/.well-known/shujiao/keys.json").json()["keys"] == []
