def firm(request):
    """``firm`` (the signed-in user's organization or None) in every template."""
    value = getattr(request, "firm", None)
    return {"firm": value if value else None}


def notifications(request):
    """``unread_notifications``: the signed-in user's unread count for the header bell (one
    indexed count; none for visitors, so cached public pages stay one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    from exchange.services.notifications import unread_count

    return {"unread_notifications": unread_count(user=user)}
