from rest_framework.routers import DefaultRouter

from exchange.api import views

router = DefaultRouter()
router.register("catalog", views.CatalogViewSet, basename="catalog")
router.register("organization", views.OrganizationViewSet, basename="organization")
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("versions", views.VersionViewSet, basename="version")
router.register("listings", views.ListingViewSet, basename="listing")
router.register("offers", views.OfferViewSet, basename="offer")

app_name = "api"
urlpatterns = router.urls
