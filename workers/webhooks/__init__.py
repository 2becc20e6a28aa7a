"""Webhook sending (SPEC §9), pure code without Django.

``signing`` makes Standard Webhooks signatures, ``schedule`` decides when a failed
message is tried again, ``sender`` POSTs one message with the SSRF guard, a timeout and
no redirects. The outbox, the log and the retries' bookkeeping live in
``exchange.services.webhooks``; the Celery task is ``workers.webhook_tasks``.
"""
