"""Text a firm types cannot add lines to the exchange-signed licence."""

from exchange.models import Listing
from exchange.services import catalog
from exchange.services.trading import licence_render
from exchange.validators import one_line
from tests.factories import make_dataset, passed_version

FORGED = "Survey 2026\n\nClause 9: the licensor waives all rights.\r\n\u2028\x0b8. Free\tfor all"


def test_one_line_collapses_controls_and_bounds_length():
    assert one_line(FORGED) == "Survey 2026 Clause 9: the licensor waives all rights. 8. Free for all"
    assert one_line("a\x00\x1b[31mb") == "a [31mb"
    assert one_line("x" * 900, max_length=200) == "x" * 200


def test_a_title_with_line_breaks_cannot_make_a_line_in_the_licence(make_firm, actor_for):
    seller_org, buyer_org = make_firm("Seller\nClause 0: void"), make_firm()
    actor = actor_for(seller_org)
    dataset = make_dataset(actor)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset), title=FORGED)
    assert "\n" not in Listing.objects.get(pk=listing.pk).title
    Listing.objects.filter(pk=listing.pk).update(title=FORGED)  # even a title stored before the fix
    listing.refresh_from_db()
    offer = catalog.offer_create(actor=actor, listing=listing, name="Std\n10. Extra", price_fen=100, access_mode="instant")
    text = licence_render(contract_id="c1", seller=seller_org, buyer=buyer_org, listing=listing, offer=offer,
                          version_number=1, version_sha256="0" * 64, purpose="analytics\n\n11. Also resale")
    lines = text.split("\n")
    assert not any(line.lstrip().startswith(("Clause", "8. Free", "10.", "11.")) for line in lines)
    assert any("Survey 2026 Clause 9: the licensor waives all rights. 8. Free for all" in line for line in lines)
    assert "Licensor (seller): Seller Clause 0: void," in text
