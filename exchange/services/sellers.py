"""The one check that an actor may act for a dataset's seller (catalog, offers, listings)."""

from __future__ import annotations

from exchange.actor import Actor
from exchange.errors import Forbidden, NotFound
from exchange.models import Dataset


def require_seller(actor: Actor, dataset: Dataset) -> None:
    """The actor must belong to the dataset's owner firm and hold the ``sell`` scope.

    Another firm's object is reported as missing (404), never as forbidden, so its
    existence is not revealed.
    """
    if actor.organization is None or dataset.owner_id != actor.organization.pk:
        raise NotFound("No such dataset.")
    if not actor.has_scope("sell"):
        raise Forbidden("This API key lacks the 'sell' scope.", code="missing_scope")
