"""Paths, the environment reader, apps, middleware, templates, language, logging and the
exchange's own rules and public address."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("SHUJIAO_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# --- Core ------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#core-settings
DEBUG = env.bool("DJANGO_DEBUG", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "exchange.middleware.CurrentOrganizationMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "exchange.web.context.firm",
                "exchange.web.context.notifications",
            ],
        },
    },
]

# --- I18N ------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Logging ---------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Exchange rules --------------------------------------------------------
# Largest price accepted for one offer: 100 million CNY, in fen. Anything above is a typo.
MAX_PRICE_FEN = env.int("MAX_PRICE_FEN", default=100_000_000 * 100)
DEMO_MODE = env.bool("SHUJIAO_DEMO_MODE", default=False)

# --- Public metadata (Croissant, Data Package, schema.org; SPEC §5) ------------------
# The exchange's public address: the listing URL written into every delivery's
# metadata/croissant.json and datapackage.json (built by a worker, which has no request).
# Pages and the API use the address they were reached at.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")
# The publisher named in that metadata.
EXCHANGE_NAME = env.str("EXCHANGE_NAME", default="Shujiao 数交 data exchange")
