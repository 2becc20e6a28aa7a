"""The Celery application, configured from Django settings under the ``CELERY_`` namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.local")

from marketplace import broker  # noqa: E402

broker.install()  # atomic writes for the embedded filesystem broker (see marketplace/broker.py)

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
