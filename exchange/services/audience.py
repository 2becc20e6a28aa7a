"""Who hears about a firm's events: its active webhook endpoints and active members.

A write transaction that emits webhooks and notifications (a purchase: request, approval,
payment) can look its audience up once, before it starts, and pass it to ``webhooks.emit`` and
``notifications.notify``: the transaction then only inserts. On the embedded default SQLite
has one writer at a time, so every read moved out of the transaction shortens everyone's wait.
An endpoint added or a member joining in the milliseconds between the lookup and the commit
hears from the next event, as if it had joined just after this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from exchange.models import Membership, Organization, WebhookEndpoint


@dataclass(frozen=True)
class Audience:
    endpoints: tuple[WebhookEndpoint, ...]  # active, oldest first
    members: tuple[tuple[Any, Any], ...]  # (user_id, organization_id) of active users

    def endpoints_for(self, firm_ids: set, event_type: str) -> list[WebhookEndpoint]:
        return [e for e in self.endpoints if e.organization_id in firm_ids and e.wants(event_type)]

    def members_of(self, org_ids: set) -> list[tuple[Any, Any]]:
        return [(user_id, org_id) for user_id, org_id in self.members if org_id in org_ids]


def audience_of(firms: Iterable[Organization | None]) -> Audience:
    """Two queries whatever the number of firms."""
    ids = {firm.pk for firm in firms if firm is not None}
    endpoints = tuple(WebhookEndpoint.objects.filter(organization_id__in=ids, is_active=True).order_by("created_at"))
    members = tuple(Membership.objects.filter(organization_id__in=ids, user__is_active=True)
                    .values_list("user_id", "organization_id"))
    return Audience(endpoints=endpoints, members=members)
