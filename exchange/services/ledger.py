"""The double-entry ledger: accounts, transfers whose entries sum to zero, and checks.

Every movement of money goes through :func:`transfer`, which must run inside the
caller's transaction. It locks the accounts it touches (``SELECT … FOR UPDATE`` in
primary-key order, so two transfers can never deadlock on each other), refuses an
overdraft before writing anything, writes the entries and updates each account's
cached balance. The database backs this up with ``balance >= 0`` on every account but
the external one.

Lock order across the project: a trading service locks its contract or request row,
then accounts (here), and writes audit events last — the audit chain takes a global
lock, and taking it before an account lock could deadlock with a payment.

Rounding rule for the commission: ``commission = floor(price_fen × bp / 10000)`` in
integer fen (basis points: 500 = 5%); the seller receives ``price_fen − commission``.
Rounding down favours the seller by less than one fen, and the two parts always add up
to the price exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from exchange.errors import Conflict
from exchange.models import Account, Contract, LedgerEntry, LedgerTransfer, Organization
from exchange.money import format_yuan


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


def commission_fen(*, price_fen: int, basis_points: int) -> int:
    """The exchange's commission in whole fen, rounded down (see the module docstring)."""
    return price_fen * basis_points // 10000


def _get_or_create(kind: str, organization: Organization | None) -> Account:
    account = Account.objects.filter(kind=kind, organization=organization).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(kind=kind, organization=organization)
    except IntegrityError:  # created concurrently: the unique constraint kept it single
        return Account.objects.get(kind=kind, organization=organization)


def wallet_of(organization: Organization) -> Account:
    """The firm's wallet, created empty on first use."""
    return _get_or_create(Account.Kind.WALLET, organization)


def system_account(kind: str) -> Account:
    """The exchange's escrow, revenue or external account (exactly one of each)."""
    if kind == Account.Kind.WALLET:
        raise ValueError("wallets belong to firms; use wallet_of()")
    return _get_or_create(kind, None)


def lock_accounts(accounts: Iterable[Account]) -> dict[int, Account]:
    """Lock the accounts' rows for this transaction, always in primary-key order."""
    ids = sorted({a.pk for a in accounts})
    locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {a.pk: a for a in locked}


def transfer(*, kind: str, legs: list[tuple[Account, int]], contract: Contract | None = None, memo: str = "",
             created_by: str = "") -> LedgerTransfer:
    """Write one transfer. ``legs`` are (account, signed amount in fen) and must sum to zero.

    Raises :class:`InsufficientFunds` (nothing written) when a non-external account would
    go below zero.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger.transfer must run inside the caller's transaction")
    if not legs or sum(amount for _, amount in legs) != 0:
        raise ValueError(f"a transfer's entries must sum to zero: {[a for _, a in legs]}")
    if any(isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 for _, amount in legs):
        raise ValueError("entry amounts are non-zero integers of fen")
    locked = lock_accounts(account for account, _ in legs)
    net: dict[int, int] = {}
    for account, amount in legs:
        net[account.pk] = net.get(account.pk, 0) + amount
    for pk, delta in net.items():
        account = locked[pk]
        if account.kind != Account.Kind.EXTERNAL and account.balance + delta < 0:
            owner = f"{account.organization}'s wallet" if account.organization_id else account.get_kind_display()
            raise InsufficientFunds(
                f"Insufficient funds: {owner} holds {format_yuan(account.balance)} but {format_yuan(-delta)} is needed "
                f"(short by {format_yuan(-(account.balance + delta))}).",
                fields={"balance_fen": [str(account.balance)], "needed_fen": [str(-delta)]},
            )
    record = LedgerTransfer.objects.create(kind=kind, contract=contract, memo=memo[:300], created_by=created_by[:200])
    entries = []
    for account, amount in legs:
        target = locked[account.pk]
        target.balance += amount
        entries.append(LedgerEntry(transfer=record, account=target, amount=amount, balance_after=target.balance))
        # Keep the caller's instance current too.
        account.balance = target.balance
    LedgerEntry.objects.bulk_create(entries)
    for target in locked.values():
        if target.pk in net:
            Account.objects.filter(pk=target.pk).update(balance=target.balance)
    return record


@dataclass(frozen=True)
class LedgerProblem:
    message: str


def ledger_verify() -> LedgerProblem | None:
    """The first inconsistency in the ledger, or None when it is sound.

    Checks that every transfer's entries sum to zero and that every account's cached
    balance equals the sum of its entries (and that no entry's ``balance_after`` lies).
    """
    unbalanced = (LedgerTransfer.objects.annotate(total=Sum("entries__amount"))
                  .exclude(total=0).order_by("created_at", "pk").first())
    if unbalanced is not None:
        return LedgerProblem(f"transfer {unbalanced.pk} ({unbalanced.kind}) does not sum to zero: "
                             f"its entries total {unbalanced.total or 0} fen")
    for account in Account.objects.order_by("pk").annotate(total=Sum("entries__amount")):
        total = account.total or 0
        if account.balance != total:
            return LedgerProblem(f"account #{account.pk} ({account}) caches a balance of {account.balance} fen "
                                 f"but its entries sum to {total} fen")
        if account.kind != Account.Kind.EXTERNAL and account.balance < 0:
            return LedgerProblem(f"account #{account.pk} ({account}) is overdrawn: {account.balance} fen")
        running = 0
        for entry in account.entries.order_by("id").only("id", "amount", "balance_after").iterator(chunk_size=2000):
            running += entry.amount
            if entry.balance_after != running:
                return LedgerProblem(f"entry #{entry.pk} on account #{account.pk} records a balance of "
                                     f"{entry.balance_after} fen but the entries up to it sum to {running} fen")
    return None
