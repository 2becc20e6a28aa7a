from django.urls import path
from rest_framework.routers import DefaultRouter

from exchange.api import audit, auth, delivery, trading, views, webhooks

router = DefaultRouter()
router.register("catalog", views.CatalogViewSet, basename="catalog")
router.register("organization", views.OrganizationViewSet, basename="organization")
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("versions", views.VersionViewSet, basename="version")
router.register("listings", views.ListingViewSet, basename="listing")
router.register("offers", views.OfferViewSet, basename="offer")
router.register("access-requests", trading.AccessRequestViewSet, basename="access-request")
router.register("contracts", trading.ContractViewSet, basename="contract")
router.register("wallet", trading.WalletViewSet, basename="wallet")
router.register("deliveries", delivery.DeliveryViewSet, basename="delivery")
router.register("audit/events", audit.AuditEventViewSet, basename="audit-event")
router.register("webhook-endpoints", webhooks.WebhookEndpointViewSet, basename="webhook-endpoint")

app_name = "api"
urlpatterns = [
    path("auth/signup/", auth.SignupView.as_view(), name="auth-signup"),
    path("auth/keys/", auth.KeyBootstrapView.as_view(), name="auth-keys"),
    path("market/stats/", trading.MarketStatsView.as_view(), name="market-stats"),
    path("audit/consistency/", audit.ConsistencyView.as_view(), name="audit-consistency"),
    path("audit/checkpoint/", audit.CheckpointView.as_view(), name="audit-checkpoint"),
    *router.urls,
]
