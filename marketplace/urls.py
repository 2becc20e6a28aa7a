"""Root URLs: the web site, the REST API (with its schema and docs) and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from exchange.web import delta_sharing
from exchange.web.delivery import wellknown_urls
from exchange.web.views.common import favicon

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("exchange.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(".well-known/shujiao/", include(wellknown_urls)),
    path("delta-sharing/", include(delta_sharing.urls)),  # the Delta Sharing protocol (SPEC §10)
    path("", include("exchange.web.urls")),
]

handler404 = "exchange.web.views.not_found"
handler403 = "exchange.web.views.forbidden"
handler400 = "exchange.web.views.bad_request"
handler500 = "exchange.web.views.server_error"
