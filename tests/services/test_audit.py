import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from exchange.actor import Actor
from exchange.models import AuditEvent
from exchange.services.audit import GENESIS_HASH, audit_record, audit_verify_chain, compute_hash


def _events(n: int) -> list[AuditEvent]:
    out = []
    for i in range(n):
        with transaction.atomic():
            out.append(audit_record(actor=Actor.system("test"), action=f"test.{i}", details={"i": i, "名": "数交"}))
    return out


def _raw(sql: str, params: list) -> None:
    """Tamper with the table the way an attacker with SQL access would (bypassing the trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # disables the append-only trigger
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


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
