"""Trading: access requests, contracts, the double-entry ledger and idempotent API requests.

Fields, constraints and small predicates only; every transition lives in
``exchange.services.trading`` and every money movement in ``exchange.services.ledger``.
Amounts are integer fen (1 CNY = 100 fen), never floats.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from .catalog import DatasetVersion, Listing, Offer
from .orgs import Organization


class AccessRequest(models.Model):
    """A buyer firm asks for an offer's licence for a stated purpose.

    ``pending → approved | rejected | cancelled | expired``. Payment is not a request
    state: an approved request has a Contract, and the contract says whether it is paid.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="access_requests_made")
    seller = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="access_requests_received")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="access_requests")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="access_requests")
    purpose = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decision_reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one open request per buyer and offer: a double click makes one request.
            models.UniqueConstraint(fields=["buyer", "offer"], condition=Q(status="pending"),
                                    name="access_request_one_pending_per_offer"),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="access_request_not_own"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.buyer} → {self.listing} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING


class Contract(models.Model):
    """Made when a request is approved; freezes price, licence, acceptance window, quality
    guarantee and parties.

    ``awaiting_payment → paid → delivered ⇄ disputed → settled | refunded | partially_refunded``;
    with ``acceptance_days == 0`` a ready delivery settles ``paid → settled`` at once. An
    unpaid contract whose request the buyer cancels becomes ``cancelled``. Transitions live
    in ``exchange.services.escrow`` (money) and ``exchange.services.disputes``.
    """

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        PAID = "paid", "Paid (in escrow)"
        DELIVERED = "delivered", "Delivered (acceptance window open)"
        DISPUTED = "disputed", "Disputed (escrow held)"
        SETTLED = "settled", "Settled"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        CANCELLED = "cancelled", "Cancelled"

    # The states in which the buyer holds the licence (paid and not wholly refunded): the one definition behind
    # "may not buy it again", "may derive from it" and "receives a subscription's updates".
    LICENCE_HELD = (Status.PAID, Status.DELIVERED, Status.DISPUTED, Status.SETTLED, Status.PARTIALLY_REFUNDED)

    class Release(models.TextChoices):
        """Why escrow went to the seller."""
        NO_WINDOW = "no_window", "Delivered (no acceptance window)"
        ACCEPTED = "accepted", "Accepted by the buyer"
        WINDOW_CLOSED = "window_closed", "Acceptance window ended"
        SYSTEM = "system", "Released by the exchange"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    access_request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, related_name="contract")
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="contracts_bought")
    seller = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="contracts_sold")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="contracts")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="contracts")
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="contracts")
    price_fen = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    # Commission rate frozen at signing, so a later change of the setting never alters a deal.
    commission_bp = models.PositiveIntegerField()
    purpose = models.TextField()
    purpose_restriction = models.TextField(blank=True)
    term_days = models.PositiveIntegerField()
    download_limit = models.PositiveIntegerField()
    redistribution = models.BooleanField()
    licence_text = models.TextField()
    licence_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_reason = models.TextField(blank=True)
    # What the buyer got back: the price after a full refund, less after a partial one.
    refunded_fen = models.PositiveBigIntegerField(default=0)
    # After-sales, frozen from the offer at signing (contracts made before it existed: 0 days, no guarantee).
    acceptance_days = models.PositiveSmallIntegerField(default=0)
    guarantee = models.JSONField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When the acceptance window ends; while a dispute is open the clock stops and the time left is kept.
    window_ends_at = models.DateTimeField(null=True, blank=True)
    window_remaining_seconds = models.PositiveIntegerField(null=True, blank=True)
    window_reminded_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    release = models.CharField(max_length=16, choices=Release.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(acceptance_days__lte=30), name="contract_acceptance_days_at_most_30"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=models.F("price_fen")),
                                   name="contract_refund_at_most_price"),
            models.CheckConstraint(condition=Q(price_fen__gte=1), name="contract_price_positive"),
            models.CheckConstraint(condition=Q(currency="CNY"), name="contract_currency_cny"),
            models.CheckConstraint(condition=Q(commission_bp__lte=10000), name="contract_commission_at_most_all"),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="contract_not_own"),
            # At most one unpaid contract per buyer and offer, whatever races the services lose.
            models.UniqueConstraint(fields=["buyer", "offer"], condition=Q(status="awaiting_payment"),
                                    name="contract_one_unpaid_per_offer"),
        ]
        indexes = [models.Index(fields=["status", "paid_at"]),
                   models.Index(fields=["status", "window_ends_at"], name="contract_window_open",
                                condition=Q(status="delivered"))]

    def __str__(self) -> str:
        return f"Contract {str(self.pk)[:8]}: {self.buyer} buys {self.listing}"

    @property
    def is_paid(self) -> bool:
        return self.status not in (self.Status.AWAITING_PAYMENT, self.Status.CANCELLED)

    @property
    def in_escrow(self) -> bool:
        """The price is still held by the exchange."""
        return self.status in (self.Status.PAID, self.Status.DELIVERED, self.Status.DISPUTED)

    @property
    def window_open(self) -> bool:
        return self.status == self.Status.DELIVERED

    @property
    def delivery(self):
        """The initial delivery (made on payment), or None. A subscription contract has further
        update deliveries in ``deliveries``; ``prefetch_related("deliveries")`` makes this free."""
        return next((d for d in self.deliveries.all() if d.initial), None)


class Account(models.Model):
    """A ledger account. Its ``balance`` is a cache of the sum of its entries.

    One wallet per firm; exactly one escrow, one revenue and one external account for
    the exchange. The external account is the other side of top-ups (money that came in
    from outside), so its balance is minus all money ever deposited; every other
    account is kept non-negative by the database as well as by the services.
    """

    class Kind(models.TextChoices):
        WALLET = "wallet", "Firm wallet"
        ESCROW = "escrow", "Escrow"
        REVENUE = "revenue", "Exchange revenue"
        EXTERNAL = "external", "External deposits"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="accounts")
    currency = models.CharField(max_length=3, default="CNY")
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization"], condition=Q(kind="wallet"), name="account_one_wallet_per_firm"),
            models.UniqueConstraint(fields=["kind"], condition=Q(organization__isnull=True), name="account_one_per_system_kind"),
            models.CheckConstraint(condition=Q(kind="wallet", organization__isnull=False)
                                   | (~Q(kind="wallet") & Q(organization__isnull=True)),
                                   name="account_wallet_has_firm"),
            models.CheckConstraint(condition=Q(balance__gte=0) | Q(kind="external"), name="account_no_overdraft"),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.WALLET:
            return f"Wallet of {self.organization}"
        return self.get_kind_display()


class LedgerTransfer(models.Model):
    """One movement of money: entries that sum to zero, written in one transaction."""

    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        PAYMENT = "payment", "Payment into escrow"
        SETTLEMENT = "settlement", "Settlement to seller (minus commission)"
        REFUND = "refund", "Refund to buyer"
        PARTIAL_REFUND = "partial_refund", "Partial refund (part to buyer, rest to seller minus commission)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="transfers")
    memo = models.CharField(max_length=300, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A contract is paid, settled or refunded at most once, whatever the services do.
            models.UniqueConstraint(fields=["contract", "kind"], condition=Q(contract__isnull=False),
                                    name="transfer_once_per_contract_and_kind"),
            models.CheckConstraint(condition=Q(kind="topup") | Q(contract__isnull=False), name="transfer_contract_required"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {str(self.pk)[:8]}"


class LedgerEntry(models.Model):
    """One leg of a transfer: a signed amount on one account, with the balance after it."""

    transfer = models.ForeignKey(LedgerTransfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_nonzero")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount:+d} fen"


class IdempotencyRecord(models.Model):
    """The first successful response to a firm's request with an ``Idempotency-Key``."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="idempotency_key_per_firm")]

    def __str__(self) -> str:
        return f"{self.key} ({self.organization_id})"
