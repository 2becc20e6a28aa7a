"""On PostgreSQL, refuse UPDATE and DELETE on the audit table at the database level.

TRUNCATE is left to the database owner (test isolation flushes tables with it).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION exchange_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'exchange_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER exchange_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON exchange_auditevent
    FOR EACH ROW EXECUTE FUNCTION exchange_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS exchange_auditevent_no_update_delete ON exchange_auditevent;
DROP FUNCTION IF EXISTS exchange_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
