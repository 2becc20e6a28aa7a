import importlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from exchange.actor import Actor
from exchange.models import AuditChainHead, AuditEvent
from exchange.services.audit import GENESIS_HASH, audit_record, audit_verify_chain, compute_hash


def _events(n: int) -> list[AuditEvent]:
    out = []
    for i in range(n):
        with transaction.atomic():
            out.append(audit_record(actor=Actor.system("test"), action=f"test.{i}", details={"i": i, "名": "数交"}))
    return out


_triggers = importlib.import_module("exchange.migrations.0006_audit_append_only_sqlite")


def _raw(sql: str, params: list | None = None) -> None:
    """Tamper with the table the way an attacker with SQL access would (bypassing the triggers)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # disables the append-only triggers
        else:
            for drop in _triggers.SQLITE_DROP:
                cursor.execute(drop)
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
        else:
            for create in _triggers.SQLITE_CREATE:
                cursor.execute(create)


def test_chain_links_and_verifies(db):
    events = _events(3)
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert all(compute_hash(AuditEvent.objects.get(pk=e.pk)) == e.hash for e in events)
    assert audit_verify_chain().ok and audit_verify_chain().checked == 3


def test_record_outside_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=Actor.system(), action="x")


def test_edited_row_is_detected(db):
    events = _events(4)
    _raw("UPDATE exchange_auditevent SET action = %s WHERE id = %s", ["test.forged", events[2].pk])
    result = audit_verify_chain()
    assert not result.ok and result.broken_seq == 3 and "edited" in result.reason
    with pytest.raises(CommandError, match="broken at event #3"):
        call_command("verify_audit")


def test_deleted_row_is_detected(db):
    events = _events(4)
    _raw("DELETE FROM exchange_auditevent WHERE id = %s", [events[1].pk])
    result = audit_verify_chain()
    assert not result.ok and result.broken_seq == 3 and "deleted" in result.reason


def test_reordered_rows_are_detected(db):
    events = _events(3)
    # swap the positions of events 2 and 3
    _raw("UPDATE exchange_auditevent SET seq = 1000 WHERE id = %s", [events[1].pk])
    _raw("UPDATE exchange_auditevent SET seq = 2 WHERE id = %s", [events[2].pk])
    _raw("UPDATE exchange_auditevent SET seq = 3 WHERE id = %s", [events[1].pk])
    result = audit_verify_chain()
    assert not result.ok and result.broken_seq == 2


def test_verify_command_succeeds_on_intact_chain(db, capsys):
    _events(2)
    call_command("verify_audit")
    assert "2 events verified" in capsys.readouterr().out


@pytest.mark.services
def test_postgres_trigger_refuses_update_and_delete(db):
    assert connection.vendor == "postgresql"
    (event,) = _events(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.0"


def test_update_and_delete_are_refused_by_the_database_on_every_backend(db):
    """SQLite (the embedded default) has the same append-only guard as PostgreSQL."""
    (event,) = _events(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.0"


def test_head_follows_every_append_in_its_transaction(db):
    events = _events(3)
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (3, events[-1].hash)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=Actor.system("test"), action="test.rolled_back")
        raise RuntimeError("the change failed")
    head.refresh_from_db()
    assert head.seq == 3 and AuditEvent.objects.count() == 3


def test_head_cannot_be_deleted_or_moved_back(db):
    _events(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditChainHead.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditChainHead.objects.update(seq=1)
    assert AuditChainHead.objects.get().seq == 2


def test_deleting_the_newest_events_is_reported_as_truncation(db):
    _events(4)
    _raw("DELETE FROM exchange_auditevent WHERE seq > 2")
    result = audit_verify_chain()
    assert not result.ok
    assert result.reason == "truncated: chain has 2 events, head says 4"
    with pytest.raises(CommandError, match="truncated: chain has 2 events, head says 4"):
        call_command("verify_audit")


def test_truncating_the_table_is_reported(db):
    _events(3)
    _raw("TRUNCATE exchange_auditevent" if connection.vendor == "postgresql" else "DELETE FROM exchange_auditevent")
    with pytest.raises(CommandError, match="truncated: chain has 0 events, head says 3"):
        call_command("verify_audit")


def test_an_append_after_truncation_keeps_the_gap_visible(db):
    _events(4)
    _raw("DELETE FROM exchange_auditevent WHERE seq > 2")
    (after,) = _events(1)
    assert after.seq == 5
    result = audit_verify_chain()
    assert not result.ok and result.broken_seq == 5 and "deleted" in result.reason


def test_a_missing_head_is_reported(db):
    _events(2)
    _raw("DELETE FROM exchange_auditchainhead")
    with pytest.raises(CommandError, match="head record is missing but the chain has 2 events"):
        call_command("verify_audit")


def test_newest_event_replaced_is_reported_against_the_head(db):
    events = _events(2)
    forged = AuditEvent(seq=2, created_at=events[1].created_at, actor_type="system", action="test.forged",
                        details={}, prev_hash=events[0].hash)
    forged.hash = compute_hash(forged)
    _raw("DELETE FROM exchange_auditevent WHERE seq = 2")
    _raw("INSERT INTO exchange_auditevent (seq, created_at, actor_type, actor_id, actor_label, organization_id, action,"
         " object_type, object_id, details, origin_ip, prev_hash, hash) VALUES (%s, %s, 'system', '', '', '', %s, '', '',"
         " '{}', '', %s, %s)", [2, forged.created_at, forged.action, forged.prev_hash, forged.hash])
    result = audit_verify_chain()
    assert not result.ok and result.broken_seq == 2 and "head" in result.reason


def test_committed_appends_move_the_committed_head(transactional_db):
    """Committed for real (and flushed afterwards, past the triggers, on SQLite too)."""
    events = _events(2)
    assert AuditChainHead.objects.values_list("seq", "hash").get() == (2, events[1].hash)
    assert audit_verify_chain().ok
