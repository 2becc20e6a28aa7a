"""The audit chain's head record, and append-only guards on SQLite as on PostgreSQL.

- ``AuditChainHead``: one row holding the newest event's seq and hash, written in the
  transaction of every append, initialised here from the newest existing event.
- SQLite: triggers refuse UPDATE and DELETE on ``exchange_auditevent`` (0002 does this on
  PostgreSQL only).
- Both: triggers refuse deleting the head row or moving it backwards (PostgreSQL's TRUNCATE,
  used by test isolation and the database owner, fires no row triggers).

SQLite rebuilds a table (and drops its triggers) when a later migration alters it: such a
migration must run ``SQLITE_CREATE`` again.
"""

from django.db import migrations, models

SQLITE_CREATE = [
    """CREATE TRIGGER IF NOT EXISTS exchange_auditevent_no_update BEFORE UPDATE ON exchange_auditevent
       BEGIN SELECT RAISE(ABORT, 'exchange_auditevent is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS exchange_auditevent_no_delete BEFORE DELETE ON exchange_auditevent
       BEGIN SELECT RAISE(ABORT, 'exchange_auditevent is append-only: DELETE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS exchange_auditchainhead_no_delete BEFORE DELETE ON exchange_auditchainhead
       BEGIN SELECT RAISE(ABORT, 'exchange_auditchainhead is append-only: DELETE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS exchange_auditchainhead_forward_only BEFORE UPDATE ON exchange_auditchainhead
       WHEN NEW.seq <= OLD.seq
       BEGIN SELECT RAISE(ABORT, 'exchange_auditchainhead only moves forward: UPDATE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS exchange_auditevent_no_update",
    "DROP TRIGGER IF EXISTS exchange_auditevent_no_delete",
    "DROP TRIGGER IF EXISTS exchange_auditchainhead_no_delete",
    "DROP TRIGGER IF EXISTS exchange_auditchainhead_forward_only",
]
PG_CREATE = """
CREATE OR REPLACE FUNCTION exchange_auditchainhead_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'exchange_auditchainhead only moves forward: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER exchange_auditchainhead_forward_only
    BEFORE UPDATE OR DELETE ON exchange_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION exchange_auditchainhead_forward_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS exchange_auditchainhead_forward_only ON exchange_auditchainhead;
DROP FUNCTION IF EXISTS exchange_auditchainhead_forward_only();
"""


def forwards(apps, schema_editor):
    AuditEvent = apps.get_model("exchange", "AuditEvent")
    AuditChainHead = apps.get_model("exchange", "AuditChainHead")
    last = AuditEvent.objects.order_by("-seq").first()
    if last is not None:
        AuditChainHead.objects.create(id=1, seq=last.seq, hash=last.hash, updated_at=last.created_at)
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql, params=None)
    elif vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql, params=None)
    elif vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0005_contract_one_unpaid_per_offer")]
    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField()),
            ],
            options={
                "constraints": [models.CheckConstraint(condition=models.Q(("id", 1)),
                                                       name="audit_chain_head_single_row")],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
