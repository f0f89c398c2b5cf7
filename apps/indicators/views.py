"""The officials' dashboard (统计指标): cards, trends, the ranking with alerts, drill-down, the period picker,
a recompute with live progress, "reported vs recomputed" and the Excel export. For county viewers (a township
leader is a county viewer bound to a township), county admins and assessors; others get a 403. Everything is
read from stored snapshots; an area outside the user's own is a 404."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.areas.models import Area
from apps.areas.selectors import area_children, area_get_visible
from apps.core.access import may_read
from apps.core.audit import history_for
from apps.core.errors import RuleViolation
from apps.core.exports import office_name
from apps.core.pagecache import cached_page
from apps.indicators import selectors, services
from apps.indicators.catalogue import BY_CODE, INDICATORS
from apps.indicators.exports import report_workbook
from apps.indicators.forms import RecomputeForm, SubmissionDecideForm
from apps.indicators.models import IndicatorValue, ReportRun, ReportSubmission, RunStatus, SubmissionStatus
from apps.indicators.periods import Period, finished_quarter_ytd, period_parse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def viewer_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not selectors.may_view_indicators(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _area(request) -> Area:
    code = (request.GET.get("area") or request.user.area_id or "").strip()
    if not code and request.user.is_superuser:
        root = Area.objects.filter(parent__isnull=True).order_by("code").first()
        code = root.code if root else ""
    try:
        return area_get_visible(user=request.user, code=code)
    except Area.DoesNotExist:
        raise Http404 from None


def _period(request, available: list[str]) -> Period:
    code = (request.GET.get("period") or "").strip()
    if code:
        try:
            return period_parse(code)
        except RuleViolation as exc:
            messages.error(request, exc.message)
    return period_parse(available[0]) if available else finished_quarter_ytd(timezone.localdate())


@viewer_required
@require_GET
@cached_page("indicators", "registry", "areas")  # registry: the late-changes card counts records written after 上报
def dashboard(request):
    available = selectors.periods_available()
    period = _period(request, available)
    area = _area(request)
    board = selectors.dashboard_for(user=request.user, period=period, area=area, rank_by=request.GET.get("rank"))
    running = None
    if selectors.may_recompute(request.user):
        running = selectors.report_runs_visible_to(user=request.user, period=period.code).first()
    context = {
        "board": board,
        "periods": [(code, period_parse(code).label) for code in available],
        "may_recompute": selectors.may_recompute(request.user),
        "run": running,
        "form": RecomputeForm(initial={"period": period.code}),
        "key_indicators": [i for i in INDICATORS if i.key],
        "trend_indicators": [{"code": i.code, "name": i.name, "unit": i.unit_label} for i in INDICATORS if i.trend],
        # 上报后更改: changes of the period's records after its approved reports (not cached: they grow)
        "late_changes": selectors.late_changes_count(user=request.user, period=period, area_code=area.code),
        "records_url": reverse("indicators:records"),
    }
    return render(request, "indicators/dashboard.html", context)


@viewer_required
@require_GET
def records(request):
    """指标明细: the records behind a figure's numerator or denominator (``?run=&indicator=&area=&part=``); with
    no figure chosen, where to choose one."""
    if not request.GET.get("run"):
        return render(request, "indicators/records.html", {"listing": None})
    try:
        run_id, page = int(request.GET.get("run", "")), int(request.GET.get("page") or 1)
    except ValueError:
        raise Http404 from None
    if not 0 < run_id < 2**63:  # a key the database could not even compare
        raise Http404
    try:
        listing = selectors.figure_records(
            user=request.user,
            run_id=run_id,
            indicator_code=request.GET.get("indicator", ""),
            area_code=request.GET.get("area", ""),
            part=request.GET.get("part", "numerator"),
            page=page,
        )
    except IndicatorValue.DoesNotExist:
        raise Http404 from None
    components = [BY_CODE[c] for c in listing.indicator.components]
    return render(
        request,
        "indicators/records.html",
        {
            "listing": listing,
            "period": period_parse(listing.run.period),
            "parts": selectors.FIGURE_PARTS,
            "components": components,
        },
    )


@viewer_required
@require_POST
def recompute(request):
    """重新计算: queues a run of the period for the county; the page then polls its progress."""
    if not selectors.may_recompute(request.user):
        raise PermissionDenied
    form = RecomputeForm(request.POST)
    run, error = None, None
    if form.is_valid():
        try:
            run = services.report_run_enqueue(
                period=form.cleaned_data["period"].code, area_code=request.user.area_id, by=request.user
            )
        except RuleViolation as exc:
            error = exc.message
    else:
        error = "；".join(e for errors in form.errors.values() for e in errors)
    if request.htmx:
        return render(
            request, "indicators/_run_status.html", {"run": run, "error": error}, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.info(request, "已开始重新计算")
    period = form.cleaned_data["period"].code if form.is_valid() else ""
    return redirect(f"{reverse('indicators:dashboard')}?period={period}")


@viewer_required
@require_GET
def run_progress(request, pk: int):
    """The polled part of the page: the progress bar while the run is queued or running, its result once
    finished (which carries no polling trigger, so the browser stops asking)."""
    try:
        run = selectors.report_run_get_visible(user=request.user, pk=pk)
    except ReportRun.DoesNotExist:
        raise Http404 from None
    return render(request, "indicators/_run_status.html", {"run": run})


@viewer_required
@require_GET
def compare(request):
    """报表数据与回溯数据: two snapshots of one period, where they differ (default: the first and the latest)."""
    available = selectors.periods_available()
    period = _period(request, available)
    runs = list(
        selectors.report_runs_visible_to(user=request.user, period=period.code).filter(status=RunStatus.SUCCESS)
    )
    by_pk = {str(r.pk): r for r in runs}
    reported = selectors.reported_run(user=request.user, period=period.code)
    default_a = reported if reported and str(reported.pk) in by_pk else (runs[-1] if runs else None)
    run_a = by_pk.get(request.GET.get("a", "")) if request.GET.get("a") else default_a
    run_b = by_pk.get(request.GET.get("b", "")) if request.GET.get("b") else (runs[0] if runs else None)
    if (request.GET.get("a") and run_a is None) or (request.GET.get("b") and run_b is None):
        raise Http404
    # Filters: only the differences (default) or every value; one indicator; one area and what lies under it.
    show_all = request.GET.get("show") == "all"
    indicator = request.GET.get("indicator", "") if request.GET.get("indicator", "") in BY_CODE else ""
    own = request.user.area
    area = _area(request) if request.GET.get("area") else None
    differences = None
    if run_a and run_b and run_a.pk != run_b.pk:
        differences = selectors.snapshot_differences(
            user=request.user, run_a=run_a, run_b=run_b, indicator=indicator,
            area_code=area.code if area else "", only_differences=not show_all,
        )  # fmt: skip
    explained = {}
    if differences and reported is not None and run_a == reported:
        late = selectors.late_changes(user=request.user, period=period, area_code=area.code if area else "")
        explained = selectors.late_changes_by_difference(differences, late)
    context = {
        "period": period,
        "periods": [(code, period_parse(code).label) for code in available],
        "runs": runs,
        "reported": reported,
        "rows": [(d, explained.get((d.area_code, d.indicator.code), [])) for d in differences or ()],
        "run_a": run_a,
        "run_b": run_b,
        "differences": differences,
        "changed": sum(d.differs for d in differences or ()),
        "row_limit": selectors.COMPARISON_ROW_LIMIT,
        "show_all": show_all,
        "indicator": indicator,
        "indicators": INDICATORS,
        "area": area,
        "areas": [own, *area_children(area=own)] if own else [],
    }
    return render(request, "indicators/compare.html", context)


@viewer_required
@require_GET
def export(request):
    """The period's report of the area and everything under it, as a formatted workbook."""
    available = selectors.periods_available()
    period = _period(request, available)
    area = _area(request)
    report = selectors.area_report(period=period.code, root=area)
    if not report.values_of(area.code):
        messages.error(request, f"{period.label}尚无{area.name}的报表数据")
        return redirect(f"{reverse('indicators:dashboard')}?period={period.code}&area={area.code}")
    response = HttpResponse(report_workbook(report, office=office_name(request.user.area)), content_type=XLSX)
    filename = f"report-{area.code}-{period.code}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- submitted reports (上报) -----------------------------------------------------------------------


def submissions_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not may_read(request.user, "indicators.submissions"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@submissions_required
@require_GET
def submission_list(request):
    """报表上报: the township submits a period here; the county sees every submission, those waiting first."""
    submissions = selectors.submissions_visible_to(user=request.user)
    status = request.GET.get("status", "")
    if status in SubmissionStatus.values:
        submissions = submissions.filter(status=status)
    available = selectors.periods_available()
    context = {
        "submissions": submissions[:200],
        "status": status,
        "statuses": SubmissionStatus.choices,
        "may_submit": selectors.may_submit(request.user),
        "periods": [(code, period_parse(code).label) for code in available],
        "form": RecomputeForm(initial={"period": available[0] if available else ""}),
    }
    return render(request, "indicators/submissions.html", context)


@submissions_required
@require_POST
def submission_create(request):
    form = RecomputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("indicators:submission_list")
    try:
        submission = services.report_submit(period=form.cleaned_data["period"].code, by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
        return redirect("indicators:submission_list")
    messages.success(request, f"{period_parse(submission.period).label}的报表已上报，等待县级审核")
    return redirect("indicators:submission_detail", pk=submission.pk)


def _submission(request, pk: int):
    try:
        return selectors.submission_get_visible(user=request.user, pk=pk)
    except ReportSubmission.DoesNotExist:
        raise Http404 from None


@submissions_required
@require_GET
def submission_detail(request, pk: int):
    """One submission: its reported key figures, its rounds (audit trail), its late changes; the county decides."""
    submission = _submission(request, pk)
    period = period_parse(submission.period)
    shown = [i for i in INDICATORS if i.key or i.card]
    values = submission.run.values.filter(area_id=submission.area_id, indicator_code__in=[i.code for i in shown])
    readings = {v.indicator_code: v for v in values}
    context = {
        "submission": submission,
        "period": period,
        "figures": [(i, readings.get(i.code)) for i in shown],
        "late": selectors.late_changes(user=request.user, period=period, submission=submission)
        if submission.status == SubmissionStatus.APPROVED
        else [],
        "late_limit": selectors.LATE_CHANGE_LIMIT,
        "history": history_for(obj=submission, user=request.user),
        "may_decide": selectors.may_decide_submissions(request.user)
        and submission.status == SubmissionStatus.SUBMITTED,
        "may_resubmit": selectors.may_submit(request.user) and submission.status == SubmissionStatus.RETURNED,
        "form": SubmissionDecideForm(),
    }
    return render(request, "indicators/submission_detail.html", context)


@submissions_required
@require_POST
def submission_decide(request, pk: int):
    submission = _submission(request, pk)
    if not selectors.may_decide_submissions(request.user):
        raise PermissionDenied
    form = SubmissionDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("indicators:submission_detail", pk=submission.pk)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.report_submission_decide(
            submission=submission, approve=approve, reason=form.cleaned_data["reason"], by=request.user
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已审核通过" if approve else "已退回，乡镇可修改后重新上报")
    return redirect("indicators:submission_detail", pk=submission.pk)
