"""The reconciliation pages: the capture–recapture estimate (county and township), the per-township
worklists (待补登, 待核实), the review of ambiguous matches. Thin: selectors read (a record or area outside
the user's area is a 404), services write; the role matrix (part ``reconciliation``) guards every page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.areas.models import Area, AreaLevel
from apps.core import access
from apps.core.errors import RuleViolation
from apps.core.privacy import mask_id_number
from apps.reconciliation import selectors, services
from apps.reconciliation.models import OutsideBirth
from apps.registry.models import Birth

PAGE_SIZE = 50


def _year(request) -> int:
    raw = request.GET.get("year", "")
    if raw.isascii() and raw.isdigit() and 1900 <= int(raw) <= 2100:
        return int(raw)
    return timezone.localdate().year


def _years(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({*range(this - 4, this + 1), year}, reverse=True)


def _id_shown(user, number: str | None) -> str:
    return (number or "") if access.may_read(user, "registry.full_ids") else mask_id_number(number)


@login_required
@require_GET
def estimate(request):
    year = _year(request)
    code = request.GET.get("area") or selectors.default_area_code(user=request.user)
    try:
        area = Area.objects.get(code=code)
        total, rows = selectors.estimates(user=request.user, year=year, area=area)
    except Area.DoesNotExist:
        raise Http404 from None
    parent = None
    if area.level == AreaLevel.TOWNSHIP and access.may_read(request.user, "reconciliation"):
        county = Area.objects.filter(code=area.code[:6] + "000000").first()
        parent = county if county and selectors.in_scope(request.user, county.code) else None
    return render(
        request,
        "reconciliation/estimate.html",
        {"year": year, "years": _years(year), "area": area, "total": total, "rows": rows, "parent": parent,
         "ambiguous": selectors.ambiguous_visible_to(user=request.user).count(), "area_keep": [("area", area.code)],
         "may_write": access.may_write(request.user, "reconciliation")},
    )  # fmt: skip


@login_required
@require_GET
def worklist(request):
    year = _year(request)
    which = request.GET.get("list") if request.GET.get("list") in ("register", "verify") else "register"
    if which == "register":
        qs = selectors.to_register(user=request.user, year=year)
    else:
        qs = selectors.to_verify(user=request.user, year=year)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(obj, _id_shown(request.user, obj.mother.id_number)) for obj in page.object_list]
    return render(
        request,
        "reconciliation/worklist.html",
        {"year": year, "years": _years(year), "which": which, "page": page, "rows": rows},
    )


@login_required
@require_GET
def review(request):
    page = Paginator(selectors.ambiguous_visible_to(user=request.user).order_by("date", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    records = list(page.object_list)
    candidates = selectors.candidates_of(records=records)
    births = Birth.objects.in_bulk({bid for ids in candidates.values() for bid in ids})
    items = [
        (r, _id_shown(request.user, r.mother.id_number), [births[b] for b in candidates.get(r.pk, ())]) for r in records
    ]
    return render(
        request,
        "reconciliation/review.html",
        {"page": page, "items": items, "may_write": access.may_write(request.user, "reconciliation")},
    )


@login_required
@require_POST
def review_decide(request):
    raw_record, raw_birth = request.POST.get("record", ""), request.POST.get("birth", "")
    if not raw_record.isdigit() or not (raw_birth == "" or raw_birth.isdigit()):
        messages.error(request, "请求参数不正确")
        return redirect("reconciliation:review")
    try:
        record = selectors.record_get_visible(user=request.user, pk=int(raw_record))
    except OutsideBirth.DoesNotExist:
        raise Http404 from None
    try:
        services.match_review(record=record, birth_id=int(raw_birth) if raw_birth else None, by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已确认匹配" if raw_birth else "已确认登记库中无此出生")
    return redirect("reconciliation:review")


@login_required
@require_POST
def rematch(request):
    counts = services.matches_run_for(user=request.user)
    matched, ambiguous, unmatched = counts["matched"], counts["ambiguous"], counts["unmatched"]
    messages.success(request, f"重新比对完成：匹配{matched}条，待人工确认{ambiguous}条，未找到{unmatched}条")
    return redirect("reconciliation:estimate")
