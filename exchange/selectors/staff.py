"""Work waiting for exchange staff: the queue counts on the admin index."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldError

from exchange.models import DatasetVersion, Delivery, Listing, Organization


@dataclass(frozen=True)
class Queue:
    label: str
    count: int
    url: str  # the admin list filtered to the queue


def staff_queues() -> list[Queue]:
    """One count query per queue. Disputes appear once the trading app has a Dispute model."""
    queues = [
        Queue("Firms awaiting verification 待认证企业", Organization.objects.filter(verification_status="pending").count(),
              "/admin/exchange/organization/?verification_status__exact=pending"),
        Queue("Listings in review 待审核挂牌", Listing.objects.filter(status=Listing.Status.IN_REVIEW).count(),
              "/admin/exchange/listing/?status__exact=in_review"),
        Queue("Failed quality checks 质检未通过", DatasetVersion.objects.filter(status=DatasetVersion.Status.FAILED).count(),
              "/admin/exchange/datasetversion/?status__exact=failed"),
        Queue("Failed deliveries 交付失败", Delivery.objects.filter(status=Delivery.Status.FAILED).count(),
              "/admin/exchange/delivery/?status__exact=failed"),
    ]
    try:
        dispute = apps.get_model("exchange", "Dispute")
    except LookupError:
        return queues
    try:
        open_disputes = dispute.objects.filter(status="open").count()
    except FieldError:
        return queues
    return [*queues, Queue("Open disputes 未结争议", open_disputes, "/admin/exchange/dispute/?status__exact=open")]
