"""At most one awaiting-payment contract per (buyer, offer).

Before the constraint, concurrent purchases of one offer could leave several unpaid
contracts. The oldest one of each (buyer, offer) is kept; the others are cancelled with
their access requests (no money had moved for them), then the partial unique index is added.
"""

from django.db import migrations, models
from django.db.models import Count, Q
from django.utils import timezone


def cancel_duplicate_unpaid(apps, schema_editor):
    Contract = apps.get_model("exchange", "Contract")
    AccessRequest = apps.get_model("exchange", "AccessRequest")
    unpaid = Contract.objects.filter(status="awaiting_payment")
    groups = unpaid.values("buyer_id", "offer_id").annotate(n=Count("id")).filter(n__gt=1)
    now = timezone.now()
    for group in groups:
        rows = list(unpaid.filter(buyer_id=group["buyer_id"], offer_id=group["offer_id"])
                    .order_by("created_at", "id").values_list("id", "access_request_id"))
        extra = rows[1:]
        Contract.objects.filter(pk__in=[c for c, _ in extra]).update(status="cancelled")
        AccessRequest.objects.filter(pk__in=[r for _, r in extra]).update(
            status="cancelled", decided_at=now,
            decision_reason="Duplicate unpaid contract for the same offer, cancelled by migration 0005.")


class Migration(migrations.Migration):
    dependencies = [("exchange", "0004_delivery")]
    operations = [
        migrations.RunPython(cancel_duplicate_unpaid, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="contract",
            constraint=models.UniqueConstraint(condition=Q(status="awaiting_payment"), fields=("buyer", "offer"),
                                               name="contract_one_unpaid_per_offer"),
        ),
    ]
