"""Reads for trading: a firm's requests, contracts, wallet and ledger, and public market figures.

Every firm-scoped query filters on the asking firm, so another firm's objects are simply
absent (the API answers 404). Market statistics are public aggregates with no firm's
private details beyond what its published listings already show.
"""

from __future__ import annotations

from datetime import timedelta
from statistics import median
from typing import Any

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from exchange.errors import InvalidInput
from exchange.models import (
    AccessRequest,
    Account,
    Contract,
    Delivery,
    LedgerEntry,
    Listing,
    Offer,
    Organization,
)
from exchange.models.catalog import Category
from exchange.services.catalog_flat import catalog_generation

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
    deliveries = Prefetch("deliveries", queryset=Delivery.objects.select_related("dataset_version", "diff_from")
                          .order_by("dataset_version__number", "created_at"))
    return (Contract.objects.filter(cond).select_related("buyer", "seller", "listing", "offer", "dataset_version")
            .prefetch_related(deliveries).order_by("-created_at", "pk"))


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


# Price against quality is a grid of counts, not one point per offer: score bands of SCORE_BAND
# points and price bands on a 1-2-5 scale (fen), so the answer stays the same size at any catalog size.
SCORE_BAND = 5
PRICE_EDGES = [1] + [m * 10 ** e for e in range(2, 12) for m in (1, 2, 5)]
MARKET_CACHE_SECONDS = 300


def market_stats(*, months: int = 12, top: int = 10) -> dict[str, Any]:
    """The market figures, cached per catalog generation (a trade or a publish starts a new one)."""
    key = f"market:{catalog_generation()}:{months}:{top}"
    stats = cache.get(key)
    if stats is None:
        stats = _market_stats(months=months, top=top)
        cache.set(key, stats, MARKET_CACHE_SECONDS)
    return stats


def _price_band(price: int) -> tuple[int, int | None]:
    low = max((e for e in PRICE_EDGES if e <= price), default=1)
    higher = [e for e in PRICE_EDGES if e > low]
    return low, (higher[0] - 1 if higher else None)


def _price_vs_quality(offers: QuerySet[Offer]) -> list[dict[str, Any]]:
    """Offers counted per (score band, price band, grade): at most 21 × len(PRICE_EDGES) × 5 cells."""
    band = Case(*[When(price_fen__gte=edge, then=Value(edge)) for edge in reversed(PRICE_EDGES)],
                default=Value(1), output_field=IntegerField())
    score_band = ExpressionWrapper(F("listing__quality_score") / SCORE_BAND, output_field=IntegerField())
    rows = (offers.annotate(price_band=band, score_band=score_band).values("score_band", "price_band", "listing__quality_grade")
            .annotate(n=Count("pk")).order_by("score_band", "price_band", "listing__quality_grade"))
    cells = []
    for row in rows:
        low, high = _price_band(row["price_band"])
        score_from = row["score_band"] * SCORE_BAND
        cells.append({"score_from": score_from, "score_to": min(score_from + SCORE_BAND - 1, 100),
                      "price_from_fen": low, "price_to_fen": high, "grade": row["listing__quality_grade"],
                      "offers": row["n"]})
    return cells


def _median_by_grade(offers: QuerySet[Offer]) -> list[dict[str, Any]]:
    """The median price per grade: one count query, then at most two middle rows per grade."""
    counts = dict(offers.values_list("listing__quality_grade").annotate(n=Count("pk")).order_by())
    out = []
    for grade in GRADES:
        n = counts.get(grade, 0)
        if not n:
            continue
        middle = list(offers.filter(listing__quality_grade=grade).order_by("price_fen")
                      .values_list("price_fen", flat=True)[(n - 1) // 2:(n - 1) // 2 + (1 if n % 2 else 2)])
        out.append({"grade": grade, "offers": n, "median_price_fen": int(median(middle))})
    return out


def _market_stats(*, months: int, top: int) -> dict[str, Any]:
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
    offers = Offer.objects.filter(is_active=True, listing__status=Listing.Status.PUBLISHED,
                                  listing__quality_score__isnull=False)
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
        "median_price_by_grade": _median_by_grade(offers),
        "price_vs_quality": _price_vs_quality(offers),
        "active_window_days": ACTIVE_WINDOW_DAYS,
        "active_sellers": recent.values("seller_id").distinct().count(),
        "active_buyers": recent.values("buyer_id").distinct().count(),
        "sellers_with_published_listings": (Listing.objects.filter(status=Listing.Status.PUBLISHED)
                                            .values("dataset__owner_id").distinct().count()),
    }
