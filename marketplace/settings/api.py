"""The REST framework: authentication, pagination, throttling rates, and the OpenAPI schema."""

from .core import env

# --- REST framework --------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "exchange.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "exchange.api.pagination.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "exchange.api.filters.StrictFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "exchange.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "exchange.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        # One bucket per key, per firm, per session user, per anonymous IP (README "Limits").
        "exchange.api.throttling.ApiKeyRateThrottle",
        "exchange.api.throttling.FirmRateThrottle",
        "exchange.api.throttling.SessionUserRateThrottle",
        "exchange.api.throttling.AnonymousIpRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "api_key": env.str("THROTTLE_API_KEY", default="600/min"),
        # A firm's keys and members together: a few busy keys, not unlimited keys.
        "firm": env.str("THROTTLE_FIRM", default="3000/min"),
        # Password attempts for API keys (POST /api/v1/auth/keys/) per client IP: an owner's script
        # needs one or two; a guesser gets 20 an hour.
        "key_bootstrap": env.str("THROTTLE_KEY_BOOTSTRAP", default="20/hour"),
        # Firm sign-ups over the API (POST /api/v1/auth/signup/) per client IP.
        "signup": env.str("THROTTLE_SIGNUP", default="10/hour"),
    },
    # JSON bodies only (uploads declare multipart on their own action): one body format to document.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shujiao (数交) data exchange API",
    "DESCRIPTION": "Catalog, datasets, listings, trading and signed deliveries. "
    "Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets served locally (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
