from apps.core.navigation import nav_items_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {"nav_items": []}
    return {"nav_items": nav_items_for(user)}
