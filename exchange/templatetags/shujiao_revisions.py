"""The revision history box of a listing page (``{% listing_revisions listing %}``): reads only."""

from __future__ import annotations

from django import template

from exchange.selectors import revisions as revisions_sel

register = template.Library()


@register.inclusion_tag("exchange/_revisions.html")
def listing_revisions(listing, is_owner=False, firm=None):
    qs = (revisions_sel.listing_revisions_of(listing, firm) if is_owner and firm is not None
          else revisions_sel.listing_revisions_public(listing))
    return {"listing": listing, "revisions": list(qs[:50]), "is_owner": is_owner}
