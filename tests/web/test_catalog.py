from django.urls import reverse
from django.utils import timezone

from exchange.models import Offer, QualityReport
from exchange.services import catalog as catalog_svc
from exchange.services.catalog_flat import listings_refresh_flat
from tests import factories


def test_catalog_lists_only_published_listings(client, seller_actor, published):
    dataset = factories.make_dataset(seller_actor, title="Draft-only dataset")
    version = factories.upload(seller_actor, dataset)
    catalog_svc.listing_create(actor=seller_actor, dataset=dataset, version=version, title="Unpublished draft listing")

    response = client.get(reverse("web:catalog"))

    assert response.status_code == 200
    body = response.content.decode()
    assert published.title in body
    assert "Unpublished draft listing" not in body
    assert "1 listing" in body
    assert "¥10.00" in body
    assert "{#" not in body and "cached_fragment" not in body  # no template comment rendered as text


def test_pages_label_times_in_the_zone_they_are_shown_in():
    """Times are shown in the exchange's zone (Asia/Shanghai) with its abbreviation, never labelled UTC."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "exchange" / "templates"
    mislabelled = [str(p.relative_to(root)) for p in root.rglob("*.html")
                   if re.search(r'\|date:"[^"]*"\s*}}\s*UTC', p.read_text(encoding="utf-8"))]
    assert mislabelled == []


def test_no_template_holds_a_comment_django_would_print():
    """Django's {# … #} comment ends at the line's end: one spread over lines is printed as page text."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "exchange" / "templates"
    broken = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.html")
              for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if "{#" in line and "#}" not in line.split("{#", 1)[1]]
    assert broken == []


def test_catalog_text_search_filters(client, seller_actor, staff_actor, published):
    other = factories.published_listing(seller_actor, staff_actor, dataset=factories.make_dataset(
        seller_actor, title="Factory sensor readings", category="manufacturing", kind="cleaned",
        schema={"fields": [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"},
                           {"name": "label", "type": "string"}], "primaryKey": ["id"]}))

    response = client.get(reverse("web:catalog"), {"q": "sensor"})

    titles = [card["listing"].title for card in response.context["cards"]]
    assert titles == [other.title]


def test_catalog_facets_count_and_filter(client, seller_actor, staff_actor, published):
    factories.published_listing(seller_actor, staff_actor, dataset=factories.make_dataset(
        seller_actor, title="Factory sensor readings", category="manufacturing", kind="cleaned"))

    response = client.get(reverse("web:catalog"))
    counts = {f["value"]: f["count"] for f in response.context["facets"]["category"]}
    kinds = {f["value"]: f["count"] for f in response.context["facets"]["kind"]}
    assert counts["text"] == 1
    assert counts["manufacturing"] == 1
    assert counts["speech"] == 0
    assert kinds == {"labelled": 1, "cleaned": 1}

    filtered = client.get(reverse("web:catalog"), {"category": "manufacturing"})
    assert [c["listing"].title for c in filtered.context["cards"]] == ["Factory sensor readings"]
    filtered = client.get(reverse("web:catalog"), {"kind": "labelled"})
    assert [c["listing"].pk for c in filtered.context["cards"]] == [published.pk]


def test_catalog_price_range_in_yuan(client, published):
    inside = client.get(reverse("web:catalog"), {"price_min": "9.99", "price_max": "10"})
    above = client.get(reverse("web:catalog"), {"price_min": "10.01"})

    assert [c["listing"].pk for c in inside.context["cards"]] == [published.pk]
    assert above.context["cards"] == []


def test_catalog_bad_price_input_is_a_form_error_not_a_500(client, published):
    for value, message in (("abc", "is not an amount in yuan"), ("-1", "cannot be negative"),
                           ("1.234", "At most 2 decimal places")):
        response = client.get(reverse("web:catalog"), {"price_min": value})

        assert response.status_code == 200
        assert message in response.context["form"].errors["price_min"][0]
        assert message in response.content.decode()
        # No results pretend to be filtered by the bad value: none are listed, and the page says why.
        assert response.context["cards"] == [] and response.context["invalid"] is True
        assert "No results shown" in response.content.decode()
        assert response.context["chips"] == []


def test_catalog_min_above_max_is_a_form_error(client, published):
    response = client.get(reverse("web:catalog"), {"price_min": "20", "price_max": "5"})

    assert response.status_code == 200
    assert response.context["form"].errors["price_max"] == ["The maximum price is below the minimum price."]


def test_catalog_card_price_format_and_grade(client, published):
    Offer.objects.filter(listing=published).update(price_fen=123450)
    listings_refresh_flat([published.pk])  # a row changed under the services: refresh the flat copy

    body = client.get(reverse("web:catalog")).content.decode()

    assert "¥1,234.50" in body
    grade = published.version.quality_report.grade
    assert f'class="grade grade-{grade}"' in body


def test_catalog_minimum_grade_filter(client, published):
    QualityReport.objects.filter(version=published.version).update(grade="C")
    listings_refresh_flat([published.pk])

    assert client.get(reverse("web:catalog"), {"min_grade": "B"}).context["cards"] == []
    assert len(client.get(reverse("web:catalog"), {"min_grade": "C"}).context["cards"]) == 1


def test_catalog_pagination(client, seller_actor, staff_actor, published):
    response = client.get(reverse("web:catalog"), {"page": "99"})

    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_catalog_min_above_max_lists_nothing_rather_than_every_price(client, published):
    response = client.get(reverse("web:catalog"), {"price_min": "20", "price_max": "5"})

    assert response.context["cards"] == [] and response.context["total"] == 0
    assert "No results shown" in response.content.decode()


def test_catalog_results_line_and_removable_chips(client, seller_actor, staff_actor, published):
    factories.published_listing(seller_actor, staff_actor, dataset=factories.make_dataset(
        seller_actor, title="Factory sensor readings", category="manufacturing", kind="cleaned"))

    response = client.get(reverse("web:catalog"), {"q": "sensor", "category": "manufacturing", "price_min": "1"})

    body = response.content.decode()
    chips = {c["name"]: c for c in response.context["chips"]}
    assert set(chips) == {"q", "category", "price_min"}
    assert chips["q"]["text"] == "“sensor”" and chips["price_min"]["text"] == "from ¥1.00"
    assert chips["category"]["text"].startswith("Category: ")
    assert "result for" in body and "Filters in force" in body
    # removing a chip keeps the other filters and drops only its own
    assert "q=sensor" not in chips["q"]["query"] and "category=manufacturing" in chips["q"]["query"]
    assert "price_min" not in chips["price_min"]["query"] and "q=sensor" in chips["price_min"]["query"]
    assert f'href="?{chips["category"]["query"]}"' in body.replace("&amp;", "&")
    without = client.get(reverse("web:catalog") + "?" + chips["q"]["query"])
    assert [c["listing"].title for c in without.context["cards"]] == ["Factory sensor readings"]

    plain = client.get(reverse("web:catalog"))
    assert plain.context["chips"] == [] and "result for" not in plain.content.decode()


def test_catalog_card_shows_rows_format_size_and_date(client, published):
    version = published.version
    body = client.get(reverse("web:catalog")).content.decode()

    card = response_card = body[body.index('class="card listing-card"'):]
    card = response_card[:response_card.index("</article>")]
    assert f"{published.row_count:,}" in card if published.row_count is not None else "—" in card
    assert version.get_format_display() in card
    from exchange.web.present import filesize
    assert filesize(version.byte_size) in card
    # the page shows the exchange's own date (Asia/Shanghai): after 16:00 UTC it is already the next day
    assert timezone.localtime(version.created_at).strftime("%Y-%m-%d") in card
    assert "Rows 行数" in card and "Updated 更新" in card
