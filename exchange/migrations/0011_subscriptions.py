"""Subscriptions (issue 11): offers of kind ``subscription``; a contract may have several
deliveries (one per dataset version), the first one marked ``initial``."""

import django.db.models.deletion
from django.db import migrations, models


def fill_versions(apps, schema_editor):
    Delivery = apps.get_model("exchange", "Delivery")
    for delivery in Delivery.objects.select_related("contract").filter(dataset_version__isnull=True).iterator():
        delivery.dataset_version_id = delivery.contract.dataset_version_id
        delivery.save(update_fields=["dataset_version"])


class Migration(migrations.Migration):

    dependencies = [
        ("exchange", "0011_lineage"),
    ]

    operations = [
        migrations.AddField(
            model_name="offer",
            name="kind",
            field=models.CharField(choices=[("one_off", "One-off (the version listed at purchase)"),
                                            ("subscription", "Subscription (every version published during the term)")],
                                   default="one_off", max_length=16),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="contract",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="deliveries",
                                    to="exchange.contract"),
        ),
        migrations.AddField(
            model_name="delivery",
            name="initial",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="diff_from",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="exchange.datasetversion"),
        ),
        migrations.AddField(
            model_name="delivery",
            name="dataset_version",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="deliveries",
                                    to="exchange.datasetversion"),
        ),
        migrations.RunPython(fill_versions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="delivery",
            name="dataset_version",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="deliveries",
                                    to="exchange.datasetversion"),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(fields=("contract", "dataset_version"),
                                               name="delivery_once_per_contract_version"),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(condition=models.Q(("initial", True)), fields=("contract",),
                                               name="delivery_one_initial"),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(("diff_from__isnull", True), ("initial", True)),
                                   models.Q(("diff_from__isnull", False), ("initial", False)), _connector="OR"),
                name="delivery_update_has_diff_from"),
        ),
    ]
