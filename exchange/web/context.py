def firm(request):
    """``firm`` (the signed-in user's organization or None) in every template."""
    value = getattr(request, "firm", None)
    return {"firm": value if value else None}
