"""What a firm may see of the audit log: the events about itself, never another firm's."""

from __future__ import annotations

from django.db.models import QuerySet

from exchange.models import AuditEvent, Organization


def audit_events_of(org: Organization) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organization_id=str(org.pk)).order_by("seq")
