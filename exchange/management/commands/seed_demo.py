"""Load the demo market: three seller firms, a buyer, staff, datasets, published listings,
a signing key and the demo buyer's purchase of the Wuhan dataset (with its delivery), plus
after-sales examples built here: a delivery the buyer accepted (settled after acceptance) and
one with an open dispute waiting in the admin queue.

Idempotent: every object is looked up before it is created, so running it twice (or on
a database that already has the demo) changes nothing. Works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand

from exchange import demo
from exchange.actor import Actor
from exchange.models import (
    Contract,
    Dataset,
    DatasetVersion,
    Delivery,
    Listing,
    Membership,
    Offer,
    Organization,
)
from exchange.services import catalog, escrow, orgs, quality
from exchange.services import delivery as delivery_svc
from exchange.services.disputes import dispute_open
from exchange.services.signing import signing_key_ensure
from exchange.services.trading import access_request_approve, access_request_create, wallet_topup

CHECK_DEADLINE_SECONDS = 300


def _owner_actor(org: Organization) -> Actor:
    user = Membership.objects.filter(organization=org, role=Membership.Role.OWNER).first().user
    return Actor(type="user", user=user, organization=org, origin_ip="seed_demo")


class Command(BaseCommand):
    help = "Load the demo firms, users, datasets, published listings and a purchase with its delivery (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--delivery-wait", type=float, default=0, metavar="SECONDS",
                            help="wait this long for a running worker to build the demo delivery (default 0: "
                                 "leave it queued for the worker that `serve_demo` starts)")
        parser.add_argument("--build-delivery-here", action="store_true",
                            help="build the demo delivery in this process if no worker built it")

    def handle(self, *args, delivery_wait: float = 0, build_delivery_here: bool = False, **options):
        User = get_user_model()
        staff = User.objects.filter(username=demo.ADMIN_USERNAME).first()
        if staff is None:
            staff = User.objects.create_superuser(demo.ADMIN_USERNAME, "admin@shujiao.example", demo.ADMIN_PASSWORD)
        staff_actor = Actor(type="staff", user=staff, origin_ip="seed_demo")

        firms: dict[str, Organization] = {}
        for spec in demo.FIRMS:
            org = Organization.objects.filter(credit_code=spec.credit_code).first()
            if org is None:
                org = orgs.organization_register(
                    actor=Actor.system("seed_demo"), name=spec.name, credit_code=spec.credit_code, city=spec.city,
                    description=spec.description, username=spec.username,
                    email=f"{spec.username}@demo.shujiao.example", password=demo.DEMO_PASSWORD)
            if not org.is_verified:
                org = orgs.organization_review(actor=staff_actor, organization=org, approve=True, note="Demo firm")
            firms[spec.username] = org

        for spec in demo.DATASETS:
            org = firms[spec.firm]
            user = Membership.objects.filter(organization=org, role=Membership.Role.OWNER).first().user
            actor = Actor(type="user", user=user, organization=org, origin_ip="seed_demo")
            dataset = Dataset.objects.filter(owner=org, title=spec.title).first()
            if dataset is None:
                dataset = catalog.dataset_create(actor=actor, title=spec.title, description=spec.description,
                                                 category=spec.category, kind=spec.kind, tags=spec.tags,
                                                 schema=spec.schema, contains_personal_data=False, **spec.rai)
            version = dataset.versions.order_by("-number").first()
            if version is None:
                content = demo.FILES[spec.filename]()
                version = catalog.version_upload(actor=actor, dataset=dataset, changelog="Initial release",
                                                 upload=SimpleUploadedFile(spec.filename, content))
            version = self._ensure_checked(version)
            listing = Listing.objects.filter(dataset=dataset).first()
            if listing is None:
                listing = catalog.listing_create(actor=actor, dataset=dataset, version=version,
                                                 summary=spec.description.split(".")[0] + ".")
            if not listing.offers.exists():
                for offer in spec.offers:
                    catalog.offer_create(actor=actor, listing=listing, **offer)
            if listing.status == Listing.Status.DRAFT:
                if version.status != DatasetVersion.Status.PASSED:
                    self.stderr.write(f"{dataset.title}: version {version.number} did not pass: {version.check_error}")
                    continue
                listing = catalog.listing_submit(actor=actor, listing=listing)
            if listing.status == Listing.Status.IN_REVIEW:
                catalog.listing_review(actor=staff_actor, listing=listing, approve=True, note="Demo listing")
            self.stdout.write(f"  {listing.title[:60]} — {Listing.objects.get(pk=listing.pk).status}")

        signing_key_ensure(actor=Actor.system("seed_demo"))
        signing_key_ensure(actor=Actor.system("seed_demo"), purpose="audit_log")  # signs audit checkpoints
        delivery = self._ensure_purchase(firms, staff_actor)
        if delivery is not None:
            delivery = self._ensure_delivery(delivery, wait=delivery_wait, build_here=build_delivery_here)
            note = "" if delivery.status == Delivery.Status.READY else " (the worker started by `serve_demo` builds it)"
            self.stdout.write(f"  demo purchase: {firms[demo.PURCHASE.buyer].name} — delivery {delivery.status}{note}")

        self._ensure_after_sales(firms, staff_actor)
        self._ensure_lineage(firms, staff_actor)
        self._ensure_subscription(firms, staff_actor)
        self._ensure_revision()
        self._ensure_subscription_updates()

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  staff:  {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}  (/admin/)")
        for spec in demo.FIRMS:
            self.stdout.write(f"  {spec.username:8s} {demo.DEMO_PASSWORD}  {spec.name}")

    def _ensure_lineage(self, firms: dict[str, Organization], staff_actor: Actor) -> None:
        """Hangzhou lists a cleaned copy of the Hefei speech data it licensed (derived_from v1, 15 %
        revenue share), and the demo buyer buys it: the settlement pays Hefei its share."""
        from exchange.errors import DomainError
        from exchange.services.lineage import lineage_declare

        spec, ds = demo.DERIVED, demo.DERIVED.dataset
        seller, buyer = firms[spec.firm], firms[spec.buyer]
        upstream_ds = next(d for d in demo.DATASETS if d.filename == spec.upstream_file)
        licence = Contract.objects.filter(buyer=seller, listing__dataset__title=upstream_ds.title,
                                          status=Contract.Status.SETTLED).select_related("dataset_version").first()
        if licence is None:
            self.stderr.write("lineage demo: the seller holds no settled licence to the upstream data")
            return
        actor = _owner_actor(seller)
        dataset = Dataset.objects.filter(owner=seller, title=ds.title).first() or catalog.dataset_create(
            actor=actor, title=ds.title, description=ds.description, category=ds.category, kind=ds.kind,
            tags=ds.tags, schema=ds.schema, contains_personal_data=False)
        version = dataset.versions.order_by("-number").first() or catalog.version_upload(
            actor=actor, dataset=dataset, changelog="Initial release",
            upload=SimpleUploadedFile(ds.filename, spec.make()))
        try:
            if not hasattr(version, "lineage"):
                lineage_declare(actor=actor, version=version, derived_from=licence.dataset_version_id,
                                steps=list(spec.steps), notes=spec.notes)
        except DomainError as exc:
            self.stderr.write(f"lineage demo: {exc.message}")
            return
        version = self._ensure_checked(version)
        listing = Listing.objects.filter(dataset=dataset).first() or catalog.listing_create(
            actor=actor, dataset=dataset, version=version, summary=ds.description.split(".")[0] + ".")
        if not listing.offers.exists():
            for offer in ds.offers:
                catalog.offer_create(actor=actor, listing=listing, **offer)
        if listing.status == Listing.Status.DRAFT and version.status == DatasetVersion.Status.PASSED:
            listing = catalog.listing_submit(actor=actor, listing=listing)
        if listing.status == Listing.Status.IN_REVIEW:
            listing = catalog.listing_review(actor=staff_actor, listing=listing, approve=True, note="Demo listing")
        if listing.status != Listing.Status.PUBLISHED:
            return
        sale = self._after_sales_contract(demo.DemoPurchase(buyer=spec.buyer, seller=spec.firm, topup_fen=0,
                                                            purpose=spec.purpose), firms, staff_actor,
                                          listing=listing, topup_to=ds.offers[0]["price_fen"])
        if sale is not None:
            share = getattr(sale, "revenue_share", None) if sale.status == Contract.Status.SETTLED else None
            self.stdout.write(f"  lineage: {listing.title[:40]} derived from {upstream_ds.title[:30]}; sale to "
                              f"{buyer.name[:20]} {sale.get_status_display().lower()}"
                              + (f", {share.share_fen} fen paid upstream" if share else ""))

    def _ensure_revision(self) -> None:
        """The speech listing carries a second version, published as a revision with its diff."""
        from exchange.models import ListingRevision
        from exchange.services import revisions

        filename, make, changelog = demo.REVISION
        spec = next(d for d in demo.DATASETS if d.filename == filename)
        dataset = Dataset.objects.filter(title=spec.title).select_related("owner").first()
        listing = Listing.objects.filter(dataset=dataset, status=Listing.Status.PUBLISHED).first() if dataset else None
        if listing is None:
            return
        actor = _owner_actor(dataset.owner)
        v2 = dataset.versions.filter(number=2).first() or catalog.version_upload(
            actor=actor, dataset=dataset, changelog=changelog, upload=SimpleUploadedFile(filename, make()))
        v2 = self._ensure_checked(v2)
        revision = ListingRevision.objects.filter(listing=listing, version=v2).first()
        if revision is None and v2.status == DatasetVersion.Status.PASSED:
            revision = revisions.listing_publish_version(actor=actor, listing=listing, version=v2, changelog=changelog)
        if revision is not None:
            revisions.revision_diff_compute(revision_id=str(revision.pk))  # idempotent; the worker may have done it
            revision.refresh_from_db()
            self.stdout.write(f"  revision: {listing.title[:40]} v{v2.number} {revision.status}, diff {revision.diff_status}")

    def _ensure_subscription(self, firms, staff_actor) -> None:
        """Wuhan subscribes to the speech listing (approved by Hefei) while it is at v1; built here."""
        spec = demo.SUBSCRIBED
        buyer, seller = firms[spec.buyer], firms[spec.seller]
        offer = Offer.objects.filter(listing__dataset__owner=seller, listing__status=Listing.Status.PUBLISHED,
                                     kind=Offer.Kind.SUBSCRIPTION, is_active=True).first()
        if offer is None or Contract.objects.filter(buyer=buyer, offer=offer).exists():
            return
        if offer.listing.version.number != 1:
            return  # the listing moved on before the subscription existed (an older demo database)
        wallet_topup(actor=staff_actor, organization=buyer, amount_fen=spec.topup_fen,
                     memo="Demo bank transfer DEMO-2026-0003")
        request = access_request_create(actor=_owner_actor(buyer), offer=offer, purpose=spec.purpose)
        access_request_approve(actor=_owner_actor(seller), request=request)
        delivery = Delivery.objects.filter(contract__access_request=request, initial=True).first()
        if delivery is not None:
            self._ensure_delivery(delivery, wait=0, build_here=True)

    def _ensure_subscription_updates(self) -> None:
        """The subscriber's update deliveries (made when v2 went live) are built here too."""
        for delivery in Delivery.objects.filter(initial=False, status=Delivery.Status.QUEUED):
            delivery = self._ensure_delivery(delivery, wait=0, build_here=True)
            self.stdout.write(f"  subscription update: {delivery.contract.buyer.name} — "
                              f"v{delivery.dataset_version.number} delivery {delivery.status}")

    def _ensure_checked(self, version: DatasetVersion) -> DatasetVersion:
        """Run the version's quality check here unless a worker already has it; then wait for it."""
        deadline = time.monotonic() + CHECK_DEADLINE_SECONDS
        while True:
            version.refresh_from_db()
            if version.status in (DatasetVersion.Status.PASSED, DatasetVersion.Status.FAILED):
                return version
            try:
                claim = quality.quality_check_claim(version_id=str(version.pk))
            except quality.ClaimBusy:
                claim = None
            if claim is not None:
                quality.quality_check_run(claim=claim)
                continue
            if time.monotonic() > deadline:
                self.stderr.write(f"version {version.pk} still {version.status} after {CHECK_DEADLINE_SECONDS}s")
                return version
            time.sleep(0.5)

    def _ensure_purchase(self, firms: dict[str, Organization], staff_actor: Actor) -> Delivery | None:
        """The demo buyer tops up and buys the seller's instant offer, once."""
        spec = demo.PURCHASE
        buyer, seller = firms[spec.buyer], firms[spec.seller]
        listing = Listing.objects.filter(dataset__owner=seller, status=Listing.Status.PUBLISHED).first()
        offer = Offer.objects.filter(listing=listing, access_mode=Offer.AccessMode.INSTANT, is_active=True).first() \
            if listing else None
        if offer is None:
            self.stderr.write(f"no published instant offer of {seller.name}: no demo purchase")
            return None
        contract = Contract.objects.filter(buyer=buyer, listing=listing).first()
        if contract is None:
            user = Membership.objects.filter(organization=buyer, role=Membership.Role.OWNER).first().user
            wallet_topup(actor=staff_actor, organization=buyer, amount_fen=spec.topup_fen,
                         memo="Demo bank transfer DEMO-2026-0001")
            request = access_request_create(actor=Actor(type="user", user=user, organization=buyer, origin_ip="seed_demo"),
                                            offer=offer, purpose=spec.purpose)
            contract = Contract.objects.get(access_request=request)
        return Delivery.objects.filter(contract=contract, initial=True).first()

    def _after_sales_contract(self, spec, firms, staff_actor, *, listing: Listing | None = None,
                              topup_to: int = 0) -> Contract | None:
        """``spec.buyer`` buys ``spec.seller``'s first offer (of ``listing`` if given; approved by the seller if
        needed), delivered here. ``topup_to``: top the wallet up to at least this much first."""
        buyer, seller = firms[spec.buyer], firms[spec.seller]
        offers = Offer.objects.filter(listing__dataset__owner=seller, listing__status=Listing.Status.PUBLISHED,
                                      is_active=True)
        # the after-sales examples buy each seller's own data, never the derived demo dataset
        offers = offers.filter(listing=listing) if listing else offers.exclude(
            listing__dataset__title=demo.DERIVED.dataset.title)
        offer = offers.order_by("price_fen").first()
        if offer is None:
            return None
        contract = Contract.objects.filter(buyer=buyer, offer=offer).first()
        if contract is None:
            if spec.topup_fen:
                wallet_topup(actor=staff_actor, organization=buyer, amount_fen=spec.topup_fen,
                             memo="Demo bank transfer DEMO-2026-0002")
            from exchange.services.ledger import wallet_of

            short = topup_to - wallet_of(buyer).balance
            if short > 0:
                wallet_topup(actor=staff_actor, organization=buyer, amount_fen=short,
                             memo="Demo bank transfer DEMO-2026-0003")
            request = access_request_create(actor=_owner_actor(buyer), offer=offer, purpose=spec.purpose)
            if request.status == "pending":
                access_request_approve(actor=_owner_actor(seller), request=request)
            contract = Contract.objects.get(access_request=request)
        delivery = Delivery.objects.filter(contract=contract, initial=True).first()
        if delivery is not None:
            self._ensure_delivery(delivery, wait=0, build_here=True)
        contract.refresh_from_db()
        return contract

    def _ensure_after_sales(self, firms, staff_actor) -> None:
        accepted = self._after_sales_contract(demo.ACCEPTED, firms, staff_actor)
        if accepted is not None and accepted.status == Contract.Status.DELIVERED:
            escrow.contract_accept(actor=_owner_actor(accepted.buyer), contract_id=accepted.pk)
            accepted.refresh_from_db()
        disputed = self._after_sales_contract(demo.DISPUTED, firms, staff_actor)
        if disputed is not None and disputed.status == Contract.Status.DELIVERED and not disputed.disputes.exists():
            dispute_open(actor=_owner_actor(disputed.buyer), contract_id=disputed.pk, kind="not_as_described",
                         text=demo.DISPUTE_TEXT)
            disputed.refresh_from_db()
        for label, c in (("accepted", accepted), ("disputed", disputed)):
            if c is not None:
                self.stdout.write(f"  after-sales ({label}): {c.buyer.name} — contract {c.get_status_display().lower()}")

    def _ensure_delivery(self, delivery: Delivery, *, wait: float, build_here: bool) -> Delivery:
        """Give a running worker ``wait`` seconds to build the delivery; optionally build it here after."""
        deadline = time.monotonic() + wait
        while True:
            delivery.refresh_from_db()
            if delivery.status not in (Delivery.Status.QUEUED, Delivery.Status.BUILDING) or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        if build_here and delivery.status == Delivery.Status.QUEUED:
            claim = delivery_svc.delivery_claim(delivery_id=str(delivery.pk))
            if claim is not None:
                delivery_svc.delivery_build(claim=claim)
            delivery.refresh_from_db()
        return delivery
