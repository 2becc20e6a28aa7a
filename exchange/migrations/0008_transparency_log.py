"""The audit transparency log: Merkle tree nodes, signed checkpoints, a purpose per signing key.

Existing audit events are backfilled as leaves (in seq order, streaming). On PostgreSQL
the tree nodes and checkpoints get the same append-only trigger as the audit table.
"""

import django.db.models.deletion
from django.db import migrations, models

TRIGGERS = """
CREATE OR REPLACE FUNCTION exchange_transparency_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER exchange_audittreenode_no_update_delete
    BEFORE UPDATE OR DELETE ON exchange_audittreenode
    FOR EACH ROW EXECUTE FUNCTION exchange_transparency_append_only();
CREATE TRIGGER exchange_auditcheckpoint_no_update_delete
    BEFORE UPDATE OR DELETE ON exchange_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION exchange_transparency_append_only();
"""
DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS exchange_audittreenode_no_update_delete ON exchange_audittreenode;
DROP TRIGGER IF EXISTS exchange_auditcheckpoint_no_update_delete ON exchange_auditcheckpoint;
DROP FUNCTION IF EXISTS exchange_transparency_append_only();
"""


def backfill(apps, schema_editor):
    from exchange.services.audit import canonical_bytes, event_payload
    from workers import tlog

    AuditEvent = apps.get_model("exchange", "AuditEvent")
    AuditTreeNode = apps.get_model("exchange", "AuditTreeNode")
    nodes, batch = {}, []
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        index = event.seq - 1
        for level, idx, h in tlog.nodes_to_store(index, tlog.leaf_hash(canonical_bytes(event_payload(event))),
                                                 lambda lv, ix: nodes[(lv, ix)]):
            nodes[(level, idx)] = h
            batch.append(AuditTreeNode(level=level, index=idx, hash=h))
        # Only left children still waiting for their right sibling are read again (the right
        # frontier): keep memory O(log n) for a long log.
        if len(nodes) > 4096:
            nodes = {k: v for k, v in nodes.items() if k[1] & 1 == 0 and (k[0], k[1] + 1) not in nodes}
        if len(batch) >= 2000:
            AuditTreeNode.objects.bulk_create(batch)
            batch = []
    AuditTreeNode.objects.bulk_create(batch)


def triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGERS, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('exchange', '0007_catalog_flat'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tree_size', models.PositiveBigIntegerField(unique=True)),
                ('root_hash', models.BinaryField(max_length=32)),
                ('note', models.TextField(help_text='The signed note exactly as published.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['-tree_size'],
            },
        ),
        migrations.CreateModel(
            name='AuditTreeNode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.PositiveSmallIntegerField()),
                ('index', models.PositiveBigIntegerField()),
                ('hash', models.BinaryField(max_length=32)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name='signingkey',
            name='signing_key_one_active',
        ),
        migrations.AddField(
            model_name='signingkey',
            name='purpose',
            field=models.CharField(choices=[('delivery', 'Delivery manifests'), ('audit_log', 'Audit log checkpoints')], default='delivery', max_length=16),
        ),
        migrations.AddConstraint(
            model_name='signingkey',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'active')), fields=('purpose',), name='signing_key_one_active'),
        ),
        migrations.AddField(
            model_name='auditcheckpoint',
            name='key',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='checkpoints', to='exchange.signingkey'),
        ),
        migrations.AddConstraint(
            model_name='audittreenode',
            constraint=models.UniqueConstraint(fields=('level', 'index'), name='audit_tree_node_unique'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(triggers, drop_triggers),
    ]
