from django.urls import path
from rest_framework.routers import DefaultRouter

from exchange.api import (
    after_sales,
    age_keys,
    audit,
    auth,
    delivery,
    lineage,
    metadata,
    revisions,
    trading,
    views,
    webhooks,
)

router = DefaultRouter()
router.register("catalog", views.CatalogViewSet, basename="catalog")
router.register("organization", views.OrganizationViewSet, basename="organization")
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("age-recipients", age_keys.AgeRecipientViewSet, basename="age-recipient")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("versions", views.VersionViewSet, basename="version")
router.register("listings", views.ListingViewSet, basename="listing")
router.register("offers", views.OfferViewSet, basename="offer")
router.register("access-requests", trading.AccessRequestViewSet, basename="access-request")
router.register("contracts", trading.ContractViewSet, basename="contract")
router.register("wallet", trading.WalletViewSet, basename="wallet")
router.register("revenue-shares", lineage.RevenueShareViewSet, basename="revenue-share")
router.register("disputes", after_sales.DisputeViewSet, basename="dispute")
router.register("notifications", after_sales.NotificationViewSet, basename="notification")
router.register("deliveries", delivery.DeliveryViewSet, basename="delivery")
router.register("audit/events", audit.AuditEventViewSet, basename="audit-event")
router.register("webhook-endpoints", webhooks.WebhookEndpointViewSet, basename="webhook-endpoint")

app_name = "api"
urlpatterns = [
    path("auth/signup/", auth.SignupView.as_view(), name="auth-signup"),
    path("auth/keys/", auth.KeyBootstrapView.as_view(), name="auth-keys"),
    path("market/stats/", trading.MarketStatsView.as_view(), name="market-stats"),
    path("catalog/<uuid:pk>/croissant/", metadata.CatalogCroissantView.as_view(), name="catalog-croissant"),
    path("audit/consistency/", audit.ConsistencyView.as_view(), name="audit-consistency"),
    path("audit/checkpoint/", audit.CheckpointView.as_view(), name="audit-checkpoint"),
    path("catalog/<uuid:pk>/revisions/", revisions.CatalogRevisionsView.as_view(), name="catalog-revisions"),
    path("catalog/<uuid:pk>/revisions/<uuid:revision_pk>/diff/", revisions.CatalogRevisionDiffView.as_view(),
         name="catalog-revision-diff"),
    path("listings/<uuid:pk>/revisions/", revisions.ListingRevisionsView.as_view(), name="listing-revisions"),
    path("listings/<uuid:pk>/offers/<uuid:offer_pk>/retire/", revisions.OfferRetireView.as_view(),
         name="offer-retire"),
    path("versions/<uuid:pk>/lineage/", lineage.VersionLineageView.as_view(), name="version-lineage"),
    *router.urls,
]
