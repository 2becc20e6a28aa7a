"""The audit log's public documents: the latest signed checkpoint and the log's verifier keys."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from exchange.services import transparency

# A checkpoint is re-signed at most once a minute: clients may cache for as long.
CHECKPOINT_MAX_AGE = 60


def _text(body: str, max_age: int) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def checkpoint(request):
    """The latest C2SP checkpoint as a signed note."""
    return _text(transparency.checkpoint_published().note, CHECKPOINT_MAX_AGE)


@require_GET
def key(request):
    """Verifier keys (``name+keyid+base64``), one per line: the active key first, then retired ones."""
    transparency.checkpoint_published()  # makes sure the log has a key
    return _text("".join(f"{k}\n" for k in transparency.verifier_keys()), 300)
