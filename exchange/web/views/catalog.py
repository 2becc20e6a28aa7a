"""Public pages: the catalog and a listing's page with its quality report."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string

from exchange.models import Listing
from exchange.pagecache import cached_fragment, cached_public_page
from exchange.selectors import catalog as catalog_sel
from exchange.selectors import lineage as lineage_sel
from exchange.selectors import quality as quality_sel
from exchange.selectors.metadata import croissant_url, listing_metadata
from exchange.web import present
from exchange.web.forms import CatalogFilterForm
from exchange.web.views.common import current_firm
from workers.metadata import dataset_jsonld, script_json

PAGE_SIZE = 12


def _filter_chips(form: CatalogFilterForm, query) -> list[dict[str, str]]:
    """One removable chip per filter in force: its text and the query string without it."""
    data = form.cleaned_data
    texts = []
    if data.get("q"):
        texts.append(("q", f"“{data['q'].strip()}”"))
    for name in ("category", "kind", "min_grade"):
        if data.get(name):
            texts.append((name, f"{form.fields[name].label or name.title()}: {dict(form.fields[name].choices)[data[name]]}"))
    if data.get("price_min") is not None:
        texts.append(("price_min", f"from {present.money(data['price_min'])}"))
    if data.get("price_max") is not None:
        texts.append(("price_max", f"up to {present.money(data['price_max'])}"))
    chips = []
    for name, text in texts:
        rest = query.copy()
        rest.pop(name, None)
        chips.append({"name": name, "text": text, "query": rest.urlencode()})
    return chips


@cached_public_page
def catalog(request):
    # The body is the same for every visitor: rendered once per URL and generation; the page around it
    # (header with the signed-in firm, CSRF token, messages) is rendered for each request.
    body = cached_fragment(request, "catalog-body", lambda: render_to_string(
        "exchange/_catalog_body.html", _catalog_body_context(request)))
    return render(request, "exchange/catalog.html", {"body": body})


def _catalog_body_context(request) -> dict:
    form = CatalogFilterForm(request.GET or None)
    # A filter that does not make sense lists nothing: its error is shown and no results
    # pretend to be filtered by it (a wrong "max price" must not list every price).
    invalid = form.is_bound and not form.is_valid()
    args = form.search_arguments() if form.is_bound else {}
    results = catalog_sel.catalog_search(**args)
    if invalid:
        results = results.none()
    facets = catalog_sel.catalog_facets(results)
    page = Paginator(catalog_sel.catalog_page(results), PAGE_SIZE).get_page(request.GET.get("page"))
    cards = [present.catalog_card(listing) for listing in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    facet_links = {}
    for name in ("category", "kind"):
        links = []
        for value, label, count in facets[name]:
            q = query.copy()
            active = q.get(name) == value
            if active:
                q.pop(name, None)
            else:
                q[name] = value
            links.append({"value": value, "label": label, "count": count, "active": active, "query": q.urlencode()})
        facet_links[name] = links
    return {"form": form, "page": page, "cards": cards, "facets": facet_links, "query": query.urlencode(),
            "total": page.paginator.count, "invalid": invalid,
            "chips": _filter_chips(form, query) if form.is_bound and not invalid else []}


def listing_detail(request, listing_id):
    firm = current_firm(request)
    listing = catalog_sel.listing_visible(listing_id=listing_id, organization=firm)
    if listing is None:
        raise Http404("No such listing.")
    dataset, version = listing.dataset, listing.version
    is_owner = firm is not None and dataset.owner_id == firm.pk
    report_obj = quality_sel.stored_report(version)
    report = quality_sel.report_for_viewer(version, organization=firm, user=request.user)
    offers = list(listing.offers.all() if is_owner else listing.offers.filter(is_active=True))
    schema_fields = present.schema_fields(dataset.schema)
    jsonld = None
    if listing.status == Listing.Status.PUBLISHED:  # search engines harvest only what anyone may see
        public = None if quality_sel.may_see_raw(owner_id=dataset.owner_id, organization=firm, user=request.user) \
            else report  # most visitors: the report already redacted for them is the public one
        meta = listing_metadata(listing, request=request, offers=[o for o in offers if o.is_active], report=public)
        jsonld = script_json(dataset_jsonld(meta, croissant_url=croissant_url(listing.pk, request)))
    return render(request, "exchange/listing.html", {
        "jsonld": jsonld, "rai": present.rai_declaration(dataset),
        "listing": listing, "dataset": dataset, "version": version, "seller": dataset.owner, "is_owner": is_owner,
        "schema_fields": schema_fields,
        "description": present.description_beyond_summary(listing.summary, dataset.description),
        "labels_declared": (dataset.schema or {}).get("labels") if isinstance(dataset.schema, dict) else None,
        "sample": present.sample_table(report, [f["name"] for f in schema_fields]),
        "offers": [{"offer": o, "price": present.money(o.price_fen)} for o in offers],
        "report_obj": report_obj, "quality": present.quality_view(report),
        "size": present.filesize(version.byte_size),
        "lineage": lineage_sel.listing_lineage(listing),
    })
