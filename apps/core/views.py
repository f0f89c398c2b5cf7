from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core import access, health, worklist
from apps.core.audit import history_for
from apps.core.scoping import AreaScopedQuerySet
from config.celery import app as celery_app


@require_GET
@never_cache
def healthz(request):
    checks = {
        "database": health.check_database(),
        "redis": health.check_redis(settings.REDIS_URL),
        "celery": health.check_celery(celery_app, settings.CELERY_BROKER_URL),
    }
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)


@login_required
def history(request, model_label: str, pk: str):
    """The audit trail of any tracked, area-scoped record the user may see; anything else is a 404. A record
    of a part the user's roles may not read (the role matrix) is a 403, as its own page would be."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        raise Http404 from None
    # ``all_objects`` where a model has one: a voided event keeps its history and it stays readable.
    manager = getattr(model, "all_objects", model._default_manager)
    if not isinstance(manager.all(), AreaScopedQuerySet):
        raise Http404
    part = access.part_of_model(model)
    if part not in access.READ or not access.may_read(request.user, part):
        raise PermissionDenied(access.DENIED_MESSAGE)
    try:
        obj = manager.visible_to(request.user).get(pk=pk)
    except (model.DoesNotExist, ValueError):
        raise Http404 from None
    entries = history_for(obj=obj, user=request.user)
    return render(request, "core/history.html", {"obj": obj, "opts": model._meta, "entries": entries})


@login_required
@require_GET
def worklist_open(request, key: str):
    """A work-list link of the start page: notes that the user looked (what comes later is new) and goes to the
    item's page. A key that is not on the user's list (another role's, or gone) leads back to the start page."""
    item = worklist.item_get(request.user, key)
    if item is None:
        return redirect("accounts:home")
    worklist.seen_record(user=request.user, key=key)
    return redirect(item.url)


def page_not_found(request, exception=None):
    """A path under /api/ that matches no route answers JSON like every other API error (the schema documents
    404 as ``{"detail": ...}``); pages keep Django's own 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "未找到。"}, status=404, json_dumps_params={"ensure_ascii": False})
    from django.views.defaults import page_not_found as default_page_not_found

    return default_page_not_found(request, exception)
