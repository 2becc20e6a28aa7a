"""Background work: Celery tasks (thin shims) and the pure processing code they call.

Everything in this package except ``workers.tasks`` is plain Python — no Django
imports — so that profiling, packaging, signing and verifying can be tested,
benchmarked and reused by a buyer's verification tool without a database.
"""
