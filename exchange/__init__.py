"""The exchange domain: models, services (writes), selectors (reads), API, web views, admin.

Business rules live in ``exchange.services``; views, serializers, forms, admin actions
and Celery tasks call them and hold no rule of their own.
"""
