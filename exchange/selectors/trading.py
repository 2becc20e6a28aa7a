"""Reads for trading: a firm's requests, contracts, wallet and ledger, and public market figures.

Every firm-scoped query filters on the asking firm, so another firm's objects are simply
absent (the API answers 404). Market statistics are public aggregates with no firm's
private details beyond what its published listings already show.
"""

from __future__ import annotations

from datetime import timedelta
from statistics import median
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from exchange.errors import InvalidInput
from exchange.models import (
    AccessRequest,
    Account,
    Contract,
    LedgerEntry,
    Listing,
    Offer,
    Organization,
)
from exchange.models.catalog import Category

DIRECTIONS = ("incoming", "outgoing")
ROLES = ("buyer", "seller")
# Contracts that count as trades: the price was paid and not given back.
TRADED = (Contract.Status.PAID, Contract.Status.SETTLED)
GRADES = ["A", "B", "C", "D", "E"]
# A firm counts as an active buyer or seller if it traded within this window.
ACTIVE_WINDOW_DAYS = 90


def access_requests_for(*, organization: Organization, direction: str = "") -> QuerySet[AccessRequest]:
    """Requests the firm made (outgoing), received as seller (incoming), or both."""
    if direction and direction not in DIRECTIONS:
        raise InvalidInput("direction is 'incoming' or 'outgoing'.", fields={"direction": ["Use incoming or outgoing."]})
    cond = {"incoming": Q(seller=organization), "outgoing": Q(buyer=organization)}.get(
        direction, Q(seller=organization) | Q(buyer=organization))
    return (AccessRequest.objects.filter(cond).select_related("buyer", "seller", "offer", "listing", "contract")
            .order_by("-created_at", "pk"))


def contracts_for(*, organization: Organization, role: str = "") -> QuerySet[Contract]:
    """Contracts where the firm is the buyer, the seller, or either."""
    if role and role not in ROLES:
        raise InvalidInput("role is 'buyer' or 'seller'.", fields={"role": ["Use buyer or seller."]})
    cond = {"buyer": Q(buyer=organization), "seller": Q(seller=organization)}.get(
        role, Q(buyer=organization) | Q(seller=organization))
    return (Contract.objects.filter(cond).select_related("buyer", "seller", "listing", "offer", "dataset_version")
            .order_by("-created_at", "pk"))


def offer_states_for(*, organization: Organization | None, offers) -> dict[Any, dict[str, Any]]:
    """For a listing page: the firm's latest request and contract per offer (absent when none)."""
    if organization is None:
        return {}
    states: dict[Any, dict[str, Any]] = {}
    requests = (AccessRequest.objects.filter(buyer=organization, offer__in=list(offers))
                .select_related("contract").order_by("offer_id", "-created_at"))
    for request in requests:
        if request.offer_id not in states:
            contract = getattr(request, "contract", None) if hasattr(request, "contract") else None
            states[request.offer_id] = {"request": request, "contract": contract}
    return states


def sales_for(*, organization: Organization) -> QuerySet[Contract]:
    return contracts_for(organization=organization, role="seller")


def wallet_summary(*, organization: Organization) -> dict[str, Any]:
    """The wallet's balance and the money in escrow on either side of the firm's trades."""
    account = Account.objects.filter(kind=Account.Kind.WALLET, organization=organization).first()
    held_as_buyer = (Contract.objects.filter(buyer=organization, status=Contract.Status.PAID)
                     .aggregate(t=Sum("price_fen"))["t"] or 0)
    pending_sales = (Contract.objects.filter(seller=organization, status=Contract.Status.PAID)
                     .aggregate(t=Sum("price_fen"))["t"] or 0)
    return {
        "balance_fen": account.balance if account else 0,
        "currency": "CNY",
        "in_escrow_as_buyer_fen": held_as_buyer,
        "in_escrow_as_seller_fen": pending_sales,
        "awaiting_payment_count": Contract.objects.filter(buyer=organization,
                                                          status=Contract.Status.AWAITING_PAYMENT).count(),
    }


def ledger_entries_for(*, organization: Organization) -> QuerySet[LedgerEntry]:
    """The firm's wallet entries, newest first, with their transfer (kind, memo, contract)."""
    return (LedgerEntry.objects.filter(account__kind=Account.Kind.WALLET, account__organization=organization)
            .select_related("transfer").order_by("-id"))


def market_stats(*, months: int = 12, top: int = 10) -> dict[str, Any]:
    """Public figures of the market: trades and turnover, prices against quality, participants.

    Turnover counts paid and settled contracts (refunded ones are excluded); prices
    against quality use the active offers of published listings with a quality report.
    """
    now = timezone.now()
    traded = Contract.objects.filter(status__in=TRADED, paid_at__isnull=False)
    totals = traded.aggregate(count=Count("pk"), turnover=Sum("price_fen"))
    since = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=31 * (months - 1))).replace(day=1)
    by_month = (traded.filter(paid_at__gte=since).annotate(month=TruncMonth("paid_at")).values("month")
                .annotate(trades=Count("pk"), turnover_fen=Sum("price_fen")).order_by("month"))
    labels = dict(Category.choices)
    by_category = (traded.values("listing__dataset__category").annotate(trades=Count("pk"), turnover_fen=Sum("price_fen"))
                   .order_by("-turnover_fen", "listing__dataset__category"))
    top_datasets = (traded.values("listing_id", "listing__title", "listing__dataset__owner__name")
                    .annotate(trades=Count("pk"), turnover_fen=Sum("price_fen"))
                    .order_by("-turnover_fen", "-trades", "listing__title")[:top])
    points = list(Offer.objects.filter(is_active=True, listing__status=Listing.Status.PUBLISHED,
                                       listing__version__quality_report__isnull=False)
                  .values_list("listing__version__quality_report__score", "listing__version__quality_report__grade",
                               "price_fen", "listing_id").order_by("listing__version__quality_report__score", "price_fen"))
    by_grade: dict[str, list[int]] = {}
    for _score, grade, price, _listing in points:
        by_grade.setdefault(grade, []).append(price)
    window = now - timedelta(days=ACTIVE_WINDOW_DAYS)
    recent = traded.filter(paid_at__gte=window)
    return {
        "currency": "CNY",
        "generated_at": now,
        "trades": totals["count"] or 0,
        "turnover_fen": totals["turnover"] or 0,
        "by_month": [{"month": row["month"].strftime("%Y-%m"), "trades": row["trades"], "turnover_fen": row["turnover_fen"]}
                     for row in by_month],
        "by_category": [{"category": row["listing__dataset__category"],
                         "label": labels.get(row["listing__dataset__category"], row["listing__dataset__category"]),
                         "trades": row["trades"], "turnover_fen": row["turnover_fen"]} for row in by_category],
        "top_datasets": [{"listing_id": str(row["listing_id"]), "title": row["listing__title"],
                          "seller": row["listing__dataset__owner__name"], "trades": row["trades"],
                          "turnover_fen": row["turnover_fen"]} for row in top_datasets],
        "median_price_by_grade": [{"grade": g, "offers": len(by_grade[g]), "median_price_fen": int(median(by_grade[g]))}
                                  for g in GRADES if g in by_grade],
        "price_vs_quality": [{"score": score, "grade": grade, "price_fen": price, "listing_id": str(listing)}
                             for score, grade, price, listing in points],
        "active_window_days": ACTIVE_WINDOW_DAYS,
        "active_sellers": recent.values("seller_id").distinct().count(),
        "active_buyers": recent.values("buyer_id").distinct().count(),
        "sellers_with_published_listings": (Listing.objects.filter(status=Listing.Status.PUBLISHED)
                                            .values("dataset__owner_id").distinct().count()),
    }
