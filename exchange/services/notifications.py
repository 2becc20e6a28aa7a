"""Notifications (SPEC §2): what a firm's members must act on or know, in the web site and by
e-mail. Firms' systems get the same events by webhook (services.webhooks.emit).

Services call ``notify`` (or ``notify_contract``) inside their own transaction: one row per
active member of each firm concerned, so a rolled-back change notifies nobody. E-mail is sent
by a worker task after commit (``shujiao.notifications.email``), retried, never inside a
request; each row is e-mailed at most once (a conditional update claims it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Forbidden
from exchange.models import Contract, Membership, Notification, Organization
from exchange.services.audience import Audience
from exchange.services.dispatch import enqueue_on_commit

logger = logging.getLogger(__name__)
EMAIL_TASK = "shujiao.notifications.email"

# event → (who is told: "buyer" | "seller" | "both", title template). {listing} is the listing's title.
CONTRACT_EVENTS: dict[str, tuple[str, str]] = {
    "contract.paid": ("seller", "Payment received into escrow for {listing}"),
    "delivery.ready": ("buyer", "Your delivery of {listing} is ready"),
    "delivery.failed": ("both", "The delivery of {listing} failed; the buyer was refunded"),
    "delivery.update_ready": ("buyer", "A new version of {listing} was delivered to your subscription"),
    "delivery.update_failed": ("both", "An update delivery of {listing} failed; exchange staff will look into it"),
    "contract.accepted": ("seller", "The buyer accepted {listing}; escrow was released to you"),
    "contract.window_closed": ("both", "The acceptance window for {listing} ended; escrow was released"),
    "contract.window_closing": ("buyer", "24 hours left to accept or report a problem with {listing}"),
    "dispute.opened": ("both", "A problem was reported with {listing}"),
    "dispute.responded": ("buyer", "The seller responded to your report on {listing}"),
    "dispute.rechecked": ("both", "The re-check of the delivered {listing} finished"),
    "dispute.decided": ("both", "The dispute over {listing} was decided"),
}


def notify(*, organizations: Iterable[Organization], event: str, title: str, body: str = "", link: str = "",
           audience: Audience | None = None) -> int:
    """One notification per active member of each firm; e-mail queued after commit. Returns how many.
    ``audience`` (looked up before the transaction, see ``services.audience``) saves the member query."""
    org_ids = {o.pk for o in organizations if o is not None}
    if audience is not None:
        members = audience.members_of(org_ids)
    else:
        members = (Membership.objects.filter(organization_id__in=org_ids, user__is_active=True)
                   .values_list("user_id", "organization_id"))
    rows = [Notification(recipient_id=user_id, organization_id=org_id, event=event, title=title[:300], body=body,
                         link=link[:500]) for user_id, org_id in members]
    if not rows:
        return 0
    created = Notification.objects.bulk_create(rows)
    if settings.NOTIFICATION_EMAIL:
        ids = [n.pk for n in created if n.pk is not None]
        if ids:
            enqueue_on_commit(EMAIL_TASK, ids)
    return len(rows)


def notify_contract(contract: Contract, event: str, *, body: str = "", audience: Audience | None = None) -> int:
    """Notify the parties of a contract event listed in CONTRACT_EVENTS."""
    side, template = CONTRACT_EVENTS[event]
    orgs = {"buyer": [contract.buyer], "seller": [contract.seller], "both": [contract.buyer, contract.seller]}[side]
    title = template.format(listing=one_line_title(contract.listing.title) if contract.listing_id else "a dataset")
    return notify(organizations=orgs, event=event, title=title, body=body,
                  link=reverse("web:contract", args=[contract.pk]), audience=audience)


def notify_request(request, event: str, *, audience: Audience | None = None) -> int:
    """An access request was made (seller told) or decided (buyer told)."""
    title = one_line_title(request.listing.title)
    if event == "access_request.created":
        return notify(organizations=[request.seller], event=event, title=f"New access request for {title}",
                      body=request.purpose[:500], link=reverse("web:incoming-requests"), audience=audience)
    outcome = {"access_request.approved": "approved", "access_request.rejected": "rejected"}[event]
    return notify(organizations=[request.buyer], event=event, title=f"Your request for {title} was {outcome}",
                  body=request.decision_reason[:500], link=reverse("web:my-requests"), audience=audience)


def notify_listing_reviewed(listing) -> int:
    return notify(organizations=[listing.dataset.owner], event="listing.reviewed",
                  title=f"Review of {one_line_title(listing.title)}: {listing.get_status_display().lower()}",
                  body=listing.review_note[:500], link=reverse("web:listing-manage", args=[listing.pk]))


def notify_version_checked(version) -> int:
    return notify(organizations=[version.dataset.owner], event="version.checked",
                  title=f"Quality check of {one_line_title(version.dataset.title)} v{version.number}: "
                        f"{version.get_status_display().lower()}",
                  body=version.check_error[:500], link=reverse("web:dataset", args=[version.dataset_id]))


def one_line_title(text: str) -> str:
    return " ".join(str(text or "").split())[:200]


# --- Reading and marking ---------------------------------------------------------------
def _require_user(actor: Actor):
    if actor.user is None or not actor.user.is_authenticated:
        raise Forbidden("Sign in to see your notifications.")
    return actor.user


def notifications_of(*, actor: Actor):
    """The actor's own notifications, newest first (an API key reads its firm's)."""
    if actor.api_key is not None and actor.organization is not None:
        return Notification.objects.filter(organization=actor.organization).order_by("-created_at", "-id")
    user = _require_user(actor)
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_count(*, user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_mark_read(*, actor: Actor, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's notifications read (all of them when ``ids`` is None). Returns how many changed."""
    qs = notifications_of(actor=actor).filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=[int(i) for i in ids])
    return qs.update(read_at=timezone.now())


# --- E-mail (worker) -------------------------------------------------------------------
def notifications_email(*, ids: list[int]) -> int:
    """Send each not-yet-sent notification to its recipient. Idempotent: a row is claimed by
    setting ``email_sent_at`` before sending and released again if the send fails (so the
    task's retry sends it). Returns how many were sent."""
    sent = 0
    for pk in ids:
        with transaction.atomic():
            n = (Notification.objects.select_for_update(of=("self",)).select_related("recipient")
                 .filter(Q(pk=pk), Q(email_sent_at__isnull=True)).first())
            if n is None or not n.recipient.email:
                continue
            Notification.objects.filter(pk=pk).update(email_sent_at=timezone.now(), email_attempts=n.email_attempts + 1)
        try:
            send_mail(subject=f"[Shujiao] {n.title}", message=_email_body(n), from_email=settings.DEFAULT_FROM_EMAIL,
                      recipient_list=[n.recipient.email])
        except Exception:
            Notification.objects.filter(pk=pk).update(email_sent_at=None)
            raise
        sent += 1
    return sent


def _email_body(n: Notification) -> str:
    link = f"{settings.SITE_URL.rstrip('/')}{n.link}" if n.link else ""
    return "\n\n".join(part for part in (n.title, n.body, link, "— Shujiao 数交") if part)
