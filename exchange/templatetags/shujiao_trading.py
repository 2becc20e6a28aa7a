"""Template tags for the purchase box of a listing page (``exchange/_purchase_box.html``).

The listing page's view belongs to the catalog; the box asks here for what only trading
knows: who may buy, the firm's wallet balance, and its request or contract per offer.
Reads only (selectors); the purchase itself is a POST to ``web:offer-buy``.
"""

from __future__ import annotations

from django import template

from exchange.selectors import trading as trading_sel
from exchange.selectors.purchase import purchase_blocks
from exchange.web import present

register = template.Library()


def buyer_refusal(*, user, firm, seller_id) -> tuple[str, str]:
    """(code, message) saying why this visitor cannot buy, or ("", "") when they can."""
    if not user.is_authenticated:
        return "anonymous", "Log in with a verified firm account to buy."
    if firm is None:
        return "no_firm", "Only members of a firm can buy. Sign up a firm to trade."
    if firm.pk == seller_id:
        return "own", "This is your listing."
    if firm.verification_status == "rejected":
        return "unverified", "Exchange staff rejected your firm's verification, so it cannot buy."
    if not firm.is_verified:
        return "unverified", "Your firm is pending verification by exchange staff; only verified firms may buy."
    return "", ""


@register.simple_tag(takes_context=True)
def purchase_state(context, listing, offers):
    """Rows for the purchase box: each offer with the firm's request/contract state and funds."""
    request = context.get("request")
    user = getattr(request, "user", None)
    firm = context.get("firm")
    code, reason = buyer_refusal(user=user, firm=firm, seller_id=listing.dataset.owner_id) if user else ("anonymous", "")
    balance_fen = None
    states = {}
    blocks = {}
    offer_objects = [item["offer"] for item in offers]
    if not code:
        balance_fen = trading_sel.wallet_summary(organization=firm)["balance_fen"]
        states = trading_sel.offer_states_for(organization=firm, offers=offer_objects)
        blocks = purchase_blocks(buyer=firm, offers=offer_objects)
    rows = []
    for item in offers:
        offer = item["offer"]
        state = states.get(offer.pk) or {}
        req, contract = state.get("request"), state.get("contract")
        short_fen = max(offer.price_fen - balance_fen, 0) if balance_fen is not None else 0
        # The service's own rule (selectors/purchase.py) decides whether a purchase is possible.
        block = blocks.get(offer.pk)
        rows.append({
            "offer": offer, "price": item["price"], "request": req, "contract": contract, "block": block,
            "can_request": not code and offer.is_active and block is None,
            "licence_ended": block is None and contract is not None and contract.status in ("paid", "settled"),
            "short": present.money(short_fen) if short_fen else "",
        })
    return {"refusal": code, "reason": reason, "rows": rows,
            "balance": present.money(balance_fen) if balance_fen is not None else ""}
