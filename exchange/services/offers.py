"""Offers: a price and licence terms for a listing, with acceptance window, quality guarantee and
fingerprint. Prices and terms are never edited in place (services.listings retires an offer)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from exchange.actor import Actor
from exchange.errors import Conflict, InvalidInput
from exchange.models import Listing, Offer
from exchange.money import format_yuan
from exchange.selectors import quality as quality_sel
from exchange.services.audit import audit_record
from exchange.services.catalog_flat import listings_refresh_flat
from exchange.services.lineage import validate_share_bp
from exchange.services.sellers import require_seller as _require_seller


def validate_price_fen(value: Any) -> int:
    """A price in integer fen: an int (not bool, not float), from 1 fen to MAX_PRICE_FEN."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("Prices are whole numbers of fen (1 CNY = 100 fen).",
                           fields={"price_fen": ["Enter a whole number of fen, e.g. 1999 for 19.99 CNY."]})
    if value < 1:
        raise InvalidInput("A price must be at least ¥0.01.", fields={"price_fen": ["Must be at least ¥0.01."]})
    if value > settings.MAX_PRICE_FEN:
        raise InvalidInput("The price is above the exchange's limit.",
                           fields={"price_fen": [f"At most {format_yuan(settings.MAX_PRICE_FEN)}."]})
    return value


def offer_create(*, actor: Actor, listing: Listing, name: str, price_fen: Any, access_mode: str = Offer.AccessMode.APPROVAL,
                 purpose_restriction: str = "", term_days: int = 365, download_limit: int = 5,
                 redistribution: bool = False, currency: str = "CNY", acceptance_days: int = 3,
                 guarantee: Any = None, fingerprint: bool = False, fingerprint_gamma: int = 20,
                 fingerprint_exclude: list[str] | None = None, fingerprint_text: bool = False,
                 derivatives_allowed: bool = False, derivative_share_bp: Any = 0,
                 kind: str = Offer.Kind.ONE_OFF) -> Offer:
    """A price and licence for a listing, with its acceptance window, optional quality
    guarantee (refused when the listed version fails it: services.guarantee) and optional
    per-buyer fingerprint."""
    from exchange.services.guarantee import guarantee_for_offer

    _require_seller(actor, listing.dataset)
    errors: dict[str, list[str]] = {}
    exclude = _clean_fingerprint(listing, bool(fingerprint), fingerprint_gamma, fingerprint_exclude,
                                 bool(fingerprint_text), errors)
    try:
        validate_price_fen(price_fen)
    except InvalidInput as exc:
        errors.update(exc.fields)
    try:
        validate_share_bp(derivative_share_bp, derivatives_allowed=bool(derivatives_allowed))
    except InvalidInput as exc:
        errors.update(exc.fields)
    if not (name or "").strip():
        errors["name"] = ["Name the offer, e.g. 'Research licence'."]
    if currency != "CNY":
        errors["currency"] = ["Only CNY is traded."]
    if access_mode not in Offer.AccessMode.values:
        errors["access_mode"] = [f"Choose one of: {', '.join(Offer.AccessMode.values)}."]
    if kind not in Offer.Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(Offer.Kind.values)}."]
    for field, value, low, high in (("term_days", term_days, 1, 3650), ("download_limit", download_limit, 1, 1000),
                                    ("acceptance_days", acceptance_days, 0, 30)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[field] = [f"A whole number from {low} to {high}."]
    if listing.status not in (Listing.Status.DRAFT, Listing.Status.REJECTED, Listing.Status.PUBLISHED):
        raise Conflict(f"Offers cannot be added to a {listing.get_status_display().lower()} listing.")
    frozen = None
    try:
        frozen = guarantee_for_offer(raw=guarantee, listing=listing)
    except InvalidInput as exc:
        if not errors:
            raise
        errors.update(exc.fields)
    if errors:
        raise InvalidInput("The offer has errors.", fields=errors)
    with transaction.atomic():
        offer = Offer.objects.create(
            listing=listing, name=name.strip(), price_fen=price_fen, currency=currency, access_mode=access_mode, kind=kind,
            purpose_restriction=(purpose_restriction or "").strip(), term_days=term_days,
            download_limit=download_limit, redistribution=bool(redistribution), acceptance_days=acceptance_days,
            guarantee=frozen, fingerprint=bool(fingerprint),
            fingerprint_gamma=fingerprint_gamma if fingerprint else 20, fingerprint_exclude=exclude,
            fingerprint_text=bool(fingerprint and fingerprint_text),
            derivatives_allowed=bool(derivatives_allowed), derivative_share_bp=derivative_share_bp,
        )
        audit_record(actor=actor, action="offer.created", obj=offer, details={
            "listing": str(listing.pk), "price_fen": price_fen, "access_mode": access_mode, "kind": kind,
            "acceptance_days": acceptance_days, "guarantee": frozen, "fingerprint": offer.fingerprint_bound or None,
            "derivatives_allowed": offer.derivatives_allowed, "derivative_share_bp": offer.derivative_share_bp})
        listings_refresh_flat([listing.pk])
    return offer


def _clean_fingerprint(listing: Listing, on: bool, gamma: Any, exclude: Any, text: bool,
                       errors: dict[str, list[str]]) -> list[str]:
    """Check the seller's fingerprint choices; returns the excluded column names."""
    from workers.fingerprint.plan import MAX_GAMMA, MIN_GAMMA

    if isinstance(gamma, bool) or not isinstance(gamma, int) or not MIN_GAMMA <= gamma <= MAX_GAMMA:
        errors["fingerprint_gamma"] = [f"A whole number from {MIN_GAMMA} to {MAX_GAMMA}: at most 1 row in this many changes."]
    if not on:
        return []
    if exclude is None or exclude == "":
        exclude = []
    if isinstance(exclude, str):
        exclude = [c.strip() for c in exclude.split(",") if c.strip()]
    if not isinstance(exclude, list) or not all(isinstance(c, str) for c in exclude):
        errors["fingerprint_exclude"] = ["A list of column names."]
        return []
    report = quality_sel.version_report(listing.version) or quality_sel.report_typed({})
    header = list(report.header) or [f.get("name") for f in (listing.dataset.schema or {}).get("fields", [])]
    unknown = [c for c in exclude if header and c not in header]
    if unknown:
        errors["fingerprint_exclude"] = [f"Not a column of this dataset: {', '.join(unknown)}."
                                         f" Columns: {', '.join(map(str, header))}."]
    columns = report.columns
    if columns and not errors:
        schema = listing.dataset.schema or {}
        pk = schema.get("primaryKey") or []
        never = {*([pk] if isinstance(pk, str) else pk), schema.get("labelField"), *exclude}
        markable = [c.name for c in columns if c.name not in never
                    and (c.type == "number" or (text and c.type == "string"))]
        if not markable:
            errors["fingerprint"] = ["This dataset has no column a fingerprint can mark: no decimal column outside "
                                     "keys, labels and exclusions" + ("." if text else
                                     "; allow whitespace marks on text to mark text columns.")]
    return list(dict.fromkeys(exclude))
