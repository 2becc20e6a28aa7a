"""The flat catalog: stored list columns, search on them, id-first pages, cached counts, binned market grid."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from exchange.models import Listing, Offer, QualityReport
from exchange.selectors import catalog as catalog_sel
from exchange.selectors.trading import PRICE_EDGES, market_stats
from exchange.services import catalog
from exchange.services.catalog_flat import catalog_generation, listings_refresh_flat
from tests.factories import make_dataset, passed_version, published_listing


@pytest.fixture
def seller(make_firm, actor_for):
    org = make_firm("合肥声纹科技 Voice Co")
    return org, actor_for(org)


def test_flat_columns_follow_offers_publish_and_dataset_edits(seller, staff_actor):
    org, actor = seller
    dataset = make_dataset(actor, title="Call centre 客服录音", category="speech", kind="labelled", tags=["asr"])
    version = passed_version(actor, dataset)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=version, summary="Mandarin calls")
    assert listing.best_price_fen is None and listing.quality_grade == version.quality_report.grade

    catalog.offer_create(actor=actor, listing=listing, name="Research", price_fen=5000)
    catalog.offer_create(actor=actor, listing=listing, name="Cheap", price_fen=1200)
    catalog.listing_submit(actor=actor, listing=listing)
    catalog.listing_review(actor=staff_actor, listing=listing, approve=True)
    listing.refresh_from_db()
    report = QualityReport.objects.get(version=version)
    assert (listing.best_price_fen, listing.quality_score, listing.quality_grade, listing.row_count) == (
        1200, report.score, report.grade, version.row_count)
    assert (listing.category, listing.kind, listing.blurb) == ("speech", "labelled", "Mandarin calls")
    assert "客服录音" in listing.search_text and "call centre" in listing.search_text and "声纹" in listing.search_text

    catalog.dataset_update(actor=actor, dataset=dataset, title="Hotline audio 热线", category="text")
    listing.refresh_from_db()
    assert "热线" in listing.search_text and listing.category == "text"


def test_backfill_function_restores_blanked_columns_with_given_models(seller, staff_actor):
    org, actor = seller
    listing = published_listing(actor, staff_actor, price_fen=777)
    Listing.objects.filter(pk=listing.pk).update(best_price_fen=None, quality_grade="", search_text="", category="")

    written = listings_refresh_flat([listing.pk], models={"Listing": Listing, "Offer": Offer,
                                                         "QualityReport": QualityReport})

    listing.refresh_from_db()
    assert written == 1 and listing.best_price_fen == 777 and listing.quality_grade and listing.category == "text"
    assert "商品评论" in listing.search_text


@pytest.mark.parametrize(("q", "found"), [
    ("商品评论", True), ("商品", True), ("评", True), ("PRODUCT reviews", True), ("product 声纹", True),
    ("语音识别", False), ("商品 vision", False), ("zq", False),
])
def test_search_in_chinese_and_english_on_the_flat_text(seller, staff_actor, q, found):
    org, actor = seller
    listing = published_listing(actor, staff_actor)

    ids = list(catalog_sel.catalog_search(q=q).values_list("pk", flat=True))

    assert ids == ([listing.pk] if found else [])


def test_search_plans_use_the_trigram_and_bigram_indexes(db):
    """PostgreSQL: a 2-character Chinese term is served by the bigram GIN, 3+ characters by the trigram GIN.
    SQLite (the embedded default) filters with LIKE on the same column."""
    two = str(catalog_sel.catalog_search(q="语音").query)
    three = str(catalog_sel.catalog_search(q="语音识").query)
    if connection.vendor != "postgresql":
        assert "LIKE" in two and "shujiao_bigrams" not in two
        return
    assert "shujiao_bigrams" in two and "shujiao_bigrams" not in three
    with connection.cursor() as cur:
        # Only the search indexes and no sequential scan (an almost empty table makes any plan cheapest);
        # the test's transaction is rolled back, indexes included.
        cur.execute("DROP INDEX listing_pub_published, listing_pub_price, listing_pub_score, listing_pub_title, "
                    "listing_pub_facets")
        cur.execute("SET LOCAL enable_seqscan = off")
        for term, index in (("语音", "listing_search_bigrams"), ("语音识", "listing_search_trgm"),
                            ("speech", "listing_search_trgm")):
            sql, params = catalog_sel.catalog_search(q=term).order_by().values("pk").query.sql_with_params()
            cur.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cur.fetchall())
            assert index in plan, (term, plan)


def test_pages_read_ids_first_in_a_stable_order(seller, staff_actor, make_offer):
    org, _actor = seller
    offers = [make_offer(org, price_fen=price) for price in (300, 100, 200, 100, 500, 400, 100)]
    client = APIClient()

    by_price = [r["id"] for p in (1, 2, 3) for r in client.get(
        "/api/v1/catalog/", {"ordering": "min_price_fen", "page_size": 3, "page": p}).json()["results"]]
    newest = [r["id"] for p in (1, 2) for r in client.get(
        "/api/v1/catalog/", {"page_size": 4, "page": p}).json()["results"]]

    expected = sorted(offers, key=lambda o: (o.price_fen, str(o.listing_id)))
    assert by_price == [str(o.listing_id) for o in expected]
    listings = Listing.objects.filter(status="published").order_by("-published_at", "-pk")
    assert newest == [str(pk) for pk in listings.values_list("pk", flat=True)]
    assert client.get("/api/v1/catalog/", {"page": 3, "page_size": 4}).status_code == 404


def test_counts_are_cached_until_the_generation_moves(seller, staff_actor, django_capture_on_commit_callbacks):
    org, actor = seller
    published_listing(actor, staff_actor)
    client = APIClient()
    assert client.get("/api/v1/catalog/").json()["count"] == 1
    before = catalog_generation()

    Listing.objects.filter(pk=published_listing(actor, staff_actor).pk).update(status="draft")
    # Changed under the services (no generation bump): the cached count stays.
    assert client.get("/api/v1/catalog/").json()["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        third = published_listing(actor, staff_actor, dataset=make_dataset(actor, title="Third 第三"))

    assert catalog_generation() > before
    body = client.get("/api/v1/catalog/").json()
    assert body["count"] == 2 and str(third.pk) in [r["id"] for r in body["results"]]


def test_market_price_quality_grid_does_not_grow_with_offers(make_firm, make_offer):
    seller = make_firm("Grid Seller")
    for _ in range(3):
        make_offer(seller, price_fen=1500, score=81, grade="B")
    few = market_stats()["price_vs_quality"]
    for _ in range(27):
        make_offer(seller, price_fen=1900, score=83, grade="B")
    from django.core.cache import cache

    cache.clear()
    many = market_stats()["price_vs_quality"]

    assert few == [{"score_from": 80, "score_to": 84, "price_from_fen": 1000, "price_to_fen": 1999, "grade": "B",
                    "offers": 3}]
    assert many == [{**few[0], "offers": 30}]
    assert PRICE_EDGES[:4] == [1, 100, 200, 500]


def test_catalog_query_too_long_is_refused_with_a_message(db):
    response = APIClient().get("/api/v1/catalog/", {"q": "x" * 201})
    assert response.status_code == 400
    assert "q" in response.json()["error"]["fields"]


def test_build_listing_helper_fills_flat_columns(make_firm, make_offer):
    offer = make_offer(make_firm("Helper Co"), price_fen=4321, grade="C", score=72)
    listing = Listing.objects.get(pk=offer.listing_id)
    assert (listing.best_price_fen, listing.quality_grade, listing.quality_score) == (4321, "C", 72)


@pytest.mark.parametrize("url", ["/", "/market/", "/api/v1/catalog/", "/api/v1/market/stats/"])
def test_public_pages_are_cached_per_generation(url, make_firm, make_offer, django_assert_num_queries,
                                                django_capture_on_commit_callbacks):
    seller = make_firm("Cache Seller")
    make_offer(seller, price_fen=1234)
    client = APIClient()
    first = client.get(url)

    with django_assert_num_queries(1):  # the generation; the page itself comes from the cache
        again = client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        offer = make_offer(seller, price_fen=98765)
    after = client.get(url)

    assert first.status_code == again.status_code == after.status_code == 200
    assert again.content == first.content and after.content != first.content
    if "catalog" in url or url == "/":
        assert offer.listing.title.encode() in after.content and offer.listing.title.encode() not in first.content


def test_signed_in_web_pages_are_not_served_from_the_page_cache(make_firm, make_offer):
    from django.test import Client

    seller = make_firm("Signed In Firm 登录", username="signedin")
    make_offer(seller)
    anonymous = Client().get("/")
    client = Client()
    client.force_login(seller.memberships.select_related("user").first().user)

    page = client.get("/").content.decode()

    assert "Log out" in page and b"Log out" not in anonymous.content
