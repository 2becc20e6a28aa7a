"""The licence of a contract: its text (deterministic, signed with the delivery) and the
draft of the contract that carries it. No query: a purchase drafts its contract before it
takes the write lock (services/trading.py)."""

from __future__ import annotations

import hashlib

from django.conf import settings

from exchange.models import Contract, Listing, Offer, Organization
from exchange.money import format_yuan
from exchange.services.guarantee import guarantee_licence_text
from exchange.services.lineage import derivatives_licence_text
from exchange.validators import one_line

LICENCE_FORMAT = "shujiao-licence/1"


def licence_render(*, contract_id: str, seller: Organization, buyer: Organization, listing: Listing, offer: Offer,
                   version_number: int, version_sha256: str, purpose: str) -> str:
    """The licence text of a contract: deterministic (same inputs, same bytes), no clock."""
    restriction = one_line(offer.purpose_restriction) or "None beyond the purpose stated by the licensee."
    # Every value a firm typed goes through one_line: none can add a line to the signed text.
    seller_name, buyer_name = one_line(seller.name, max_length=200), one_line(buyer.name, max_length=200)
    title, offer_name, purpose = one_line(listing.title, max_length=200), one_line(offer.name, max_length=200), one_line(purpose)
    lines = [
        f"SHUJIAO DATA LICENCE ({LICENCE_FORMAT})",
        "",
        f"Contract: {contract_id}",
        f"Licensor (seller): {seller_name}, unified social credit code {seller.credit_code}",
        f"Licensee (buyer): {buyer_name}, unified social credit code {buyer.credit_code}",
        f"Dataset: {title} (listing {listing.pk}), version {version_number}, SHA-256 {version_sha256}",
        f"Offer: {offer_name}",
        f"Price: {format_yuan(offer.price_fen)} ({offer.currency}), held in escrow by the exchange "
        + ("until delivery." if not offer.acceptance_days else "until the licensee accepts the delivery."),
        "",
        "1. Purpose. The licensee may use the data only for the purpose it stated:",
        f"   {purpose}",
        f"2. Purpose restriction set by the licensor: {restriction}",
        f"3. Term. The licence runs for {offer.term_days} days from delivery.",
        f"4. Downloads. The delivery may be downloaded at most {offer.download_limit} times.",
        "5. Redistribution. " + ("The licensee may redistribute the data."
                                 if offer.redistribution else
                                 "The licensee may not redistribute, resell or publish the data, in whole or in part."),
        "6. Personal information. The licensee processes any personal information only within the stated purpose "
        "and the law of the People's Republic of China, including the Personal Information Protection Law.",
        "7. Integrity. The delivery is signed by the exchange; the SHA-256 of this text is recorded in the contract.",
        "8. Acceptance. " + (
            f"The licensee has {offer.acceptance_days} days from delivery to accept it or to report a problem to the "
            "exchange; the price is released to the licensor when the licensee accepts or the period ends without an "
            "open dispute, and the period stops while a dispute is open."
            if offer.acceptance_days else
            "The price is released to the licensor when the delivery is ready (no acceptance period)."),
        "9. Quality guarantee. " + guarantee_licence_text(offer.guarantee),
    ]
    if offer.fingerprint:
        lines.append("10. Fingerprint. The licensee's copy carries marks keyed to this contract, so that a leaked copy "
                     f"can be traced to it; {offer.fingerprint_bound}.")
    number = 10 + bool(offer.fingerprint)
    if offer.derivatives_allowed:
        lines.append(f"{number}. Derivatives. " + derivatives_licence_text(offer))
        number += 1
    if offer.kind == offer.Kind.SUBSCRIPTION:
        lines.append(f"{number}. Subscription. The term runs {offer.term_days} days from payment. Every later version "
                     "the licensor publishes to this listing during the term is delivered to the licensee as a new "
                     "signed package, with the changes since the version the licensee last received, and is licensed "
                     "on these terms until the term ends. Renewal is a new purchase.")
    lines.append("")
    return "\n".join(lines)


def contract_draft(*, buyer: Organization, seller: Organization, listing: Listing, offer: Offer,
                   purpose: str) -> Contract:
    """The unsaved contract of an approval, its licence text rendered and hashed (no query)."""
    version = listing.version
    contract = Contract(buyer=buyer, seller=seller, listing=listing, offer=offer,
                        dataset_version=version, price_fen=offer.price_fen, currency=offer.currency,
                        commission_bp=settings.TRADING_COMMISSION_BP, purpose=purpose,
                        purpose_restriction=offer.purpose_restriction, term_days=offer.term_days,
                        download_limit=offer.download_limit, redistribution=offer.redistribution,
                        acceptance_days=offer.acceptance_days, guarantee=offer.guarantee)
    contract.licence_text = licence_render(contract_id=str(contract.pk), seller=seller, buyer=buyer,
                                           listing=listing, offer=offer, version_number=version.number,
                                           version_sha256=version.sha256, purpose=purpose)
    contract.licence_sha256 = hashlib.sha256(contract.licence_text.encode()).hexdigest()
    return contract
