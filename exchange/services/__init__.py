"""Use cases that change state, one function each (``<entity>_<action>``), keyword-only.

Each service checks the state it needs before changing it, owns its transaction, writes
its audit event inside that transaction, and enqueues worker tasks with
``transaction.on_commit``. Views, serializers, admin actions and tasks only call these.
"""
