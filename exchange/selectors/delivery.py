"""What a firm may see of deliveries: the buyer its purchases, the seller the state of its sales."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from exchange.models import Delivery, Organization

_RELATED = ("contract__buyer", "contract__seller", "contract__listing", "contract__dataset_version", "dataset_version",
            "diff_from")


def deliveries_of(org: Organization) -> QuerySet[Delivery]:
    """Deliveries where the firm is the buyer or the seller."""
    return (Delivery.objects.filter(Q(contract__buyer=org) | Q(contract__seller=org))
            .select_related(*_RELATED).order_by("-created_at"))


def deliveries_bought(org: Organization) -> QuerySet[Delivery]:
    return Delivery.objects.filter(contract__buyer=org).select_related(*_RELATED).order_by("-created_at")


def deliveries_sold(org: Organization) -> QuerySet[Delivery]:
    return Delivery.objects.filter(contract__seller=org).select_related(*_RELATED).order_by("-created_at")


def delivery_for_contracts(contract_ids) -> dict:
    """``{contract_id: initial delivery}`` for a page of contracts (one query)."""
    return {d.contract_id: d for d in Delivery.objects.filter(contract_id__in=list(contract_ids), initial=True)}


def deliveries_of_contract(contract) -> list[Delivery]:
    """Every delivery of one contract, oldest version first: the initial one, then a subscription's updates."""
    return list(Delivery.objects.filter(contract=contract).select_related("dataset_version", "diff_from")
                .order_by("dataset_version__number", "created_at"))
