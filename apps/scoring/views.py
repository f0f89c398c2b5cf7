"""Pages of target scoring: the county results table, a unit's line-by-line breakdown with the evidence,
manual scoring, claims and their approval, the Excel export. Thin: selectors read (scoped: a unit outside the
user's area is a 404), services write; a ``RuleViolation`` is shown as the page's message."""

from __future__ import annotations

import mimetypes
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.models import Role
from apps.areas.models import Area, AreaLevel
from apps.core.access import may_write
from apps.core.errors import RuleViolation
from apps.core.exports import office_name
from apps.core.pagecache import cached_page
from apps.indicators.catalogue import BY_CODE
from apps.scoring import selectors, services
from apps.scoring.calculation import fmt
from apps.scoring.exports import results_xlsx
from apps.scoring.forms import AdjustmentClaimForm, ContractForm, DecisionForm, ManualScoreForm, YearForm, YearOpenForm
from apps.scoring.models import (
    Adjustment,
    AdjustmentStatus,
    Assessment,
    AssessmentStatus,
    Contract,
    ItemMethod,
    ItemScore,
    Scheme,
    SchemeItem,
)


def _reader(user) -> None:
    if not selectors.may_read_results(user):
        raise PermissionDenied


def _year(request) -> int:
    form = YearForm(request.GET)
    if form.is_valid() and form.cleaned_data["year"]:
        return form.cleaned_data["year"]
    years = selectors.assessment_years_visible(user=request.user)
    return years[0] if years else timezone.localdate().year


def _assessment_or_404(request, pk: int) -> Assessment:
    try:
        return selectors.assessment_get_visible(user=request.user, pk=pk)
    except Assessment.DoesNotExist:
        raise Http404 from None


@login_required
@cached_page("scoring", "indicators", "areas")
def results(request):
    """县考核结果: ranked units with per-line ranks, vetoed units apart, pairings (包保)."""
    _reader(request.user)
    year = _year(request)
    context = {
        "results": selectors.results_for(user=request.user, year=year),
        "years": selectors.assessment_years_visible(user=request.user),
        "is_assessor": request.user.has_role(Role.ASSESSOR),
    }
    return render(request, "scoring/results.html", context)


@login_required
def results_export(request):
    _reader(request.user)
    year = _year(request)
    results = selectors.results_for(user=request.user, year=year)
    body = results_xlsx(results=results, office=office_name(request.user.area))
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="scoring-{year}.xlsx"'
    return response


@login_required
@require_POST
def recompute(request):
    """按最新快照重新计算: the open assessments the assessor may see, from the latest snapshot."""
    if not request.user.has_role(Role.ASSESSOR):
        raise PermissionDenied
    year = _year(request)
    codes = [a.area_id for a in selectors.assessments_visible_to(user=request.user, year=year)]
    count = services.assessments_recompute(year=year, area_codes=codes, by=request.user)
    messages.success(request, f"已按最新指标快照重新计算{count}个单位的得分")
    return redirect(f"{reverse('scoring:results')}?year={year}")


@login_required
def scheme_detail(request, pk: int):
    """考核方案: every unit reads the published scheme all year (seed 004, L8)."""
    try:
        scheme = selectors.schemes_for_year_page(user=request.user).get(pk=pk)
    except Scheme.DoesNotExist:
        raise Http404 from None
    items = list(SchemeItem.objects.filter(scheme=scheme).order_by("position"))
    return render(request, "scoring/scheme_detail.html", {"scheme": scheme, "items": items,
                                                          "rules": scheme.rules.order_by("position")})  # fmt: skip


@login_required
def assessment_detail(request, pk: int):
    """一个单位的考核明细: line by line, item by item, with how each score came about and its evidence."""
    _reader(request.user)
    assessment = _assessment_or_404(request, pk)
    is_open = assessment.status == AssessmentStatus.OPEN
    user = request.user
    year_record = services.assessment_year_of(year=assessment.year, area_code=assessment.area_id)
    context = {
        "assessment": assessment,
        "late_notice": selectors.late_notice(year_record) if year_record and year_record.late_reason else "",
        "can_finalise": is_open and services.may_assess(user, assessment, roles=services.YEAR_ROLES),
        "row": selectors.result_row_for(user=user, assessment=assessment),
        "breakdown": selectors.assessment_breakdown(assessment=assessment),
        "adjustments": selectors.adjustments_of(assessment=assessment),
        "pairings": selectors.pairings_of(assessment=assessment),
        "targets": selectors.contract_targets_of(assessment=assessment),
        "can_score": is_open and services.may_assess(user, assessment),
        "can_claim": is_open and services.may_claim(user, assessment),
        "can_decide": is_open and services.may_assess(user, assessment, roles=services.DECIDER_ROLES),
        "claim_form": AdjustmentClaimForm(scheme_id=assessment.scheme_id),
        "decision_form": DecisionForm(),
    }
    return render(request, "scoring/assessment_detail.html", context)


def _back(assessment: Assessment, anchor: str = ""):
    return redirect(assessment.get_absolute_url() + (f"#{anchor}" if anchor else ""))


def _form_errors(form) -> str:
    return "；".join(f"{form.fields[f].label if f in form.fields else ''}：{e}" for f, es in form.errors.items()
                    for e in es)  # fmt: skip


@login_required
@require_POST
def item_score_save(request, pk: int, item_pk: int):
    assessment = _assessment_or_404(request, pk)
    try:
        item = SchemeItem.objects.get(pk=item_pk, scheme_id=assessment.scheme_id)
    except SchemeItem.DoesNotExist:
        raise Http404 from None
    form = ManualScoreForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, f"「{item.name}」未保存：{_form_errors(form)}")
        return _back(assessment, f"item-{item.pk}")
    try:
        services.item_score_manual(assessment=assessment, item=item, by=request.user, **form.cleaned_data)
    except RuleViolation as exc:
        messages.error(request, f"「{item.name}」未保存：{exc.message}")
    else:
        messages.success(request, f"已保存「{item.name}」的得分")
    return _back(assessment, f"item-{item.pk}")


@login_required
@require_POST
def adjustment_claim_view(request, pk: int):
    assessment = _assessment_or_404(request, pk)
    form = AdjustmentClaimForm(request.POST, request.FILES, scheme_id=assessment.scheme_id)
    if not form.is_valid():
        messages.error(request, f"申报未提交：{_form_errors(form)}")
        return _back(assessment, "adjustments")
    data = form.cleaned_data
    try:
        adjustment = services.adjustment_claim(
            assessment=assessment, rule=data["rule"], line=data["line"], note=data["note"],
            chosen_points=data["chosen_points"],
            cases=data["cases"] or 0, unreported_cases=data["unreported_cases"] or 0, evidence=data["evidence"],
            by=request.user,
        )  # fmt: skip
    except RuleViolation as exc:
        messages.error(request, f"申报未提交：{exc.message}")
    else:
        messages.success(request, f"已申报{adjustment.get_direction_display()}{fmt(adjustment.points)}分，待审核")
    return _back(assessment, "adjustments")


@login_required
@require_POST
def adjustment_decide_view(request, pk: int):
    try:
        adjustment = selectors.adjustment_get_visible(user=request.user, pk=pk)
    except Adjustment.DoesNotExist:
        raise Http404 from None
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择审核结果")
        return _back(adjustment.assessment, "adjustments")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.adjustment_decide(adjustment=adjustment, approve=approve, note=form.cleaned_data["note"],
                                   by=request.user)  # fmt: skip
    except RuleViolation as exc:
        messages.error(request, f"审核未完成：{exc.message}")
    else:
        label = AdjustmentStatus.APPROVED.label if approve else AdjustmentStatus.REJECTED.label
        messages.success(request, f"{adjustment.get_direction_display()}「{adjustment.rule.name}」{label}")
    return _back(adjustment.assessment, "adjustments")


def _file_response(field):
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = os.path.basename(field.name)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)


@login_required
def score_evidence(request, pk: int):
    _reader(request.user)
    try:
        score = selectors.item_score_get_visible(user=request.user, pk=pk)
    except ItemScore.DoesNotExist:
        raise Http404 from None
    return _file_response(score.evidence)


@login_required
def adjustment_evidence(request, pk: int):
    _reader(request.user)
    try:
        adjustment = selectors.adjustment_get_visible(user=request.user, pk=pk)
    except Adjustment.DoesNotExist:
        raise Http404 from None
    return _file_response(adjustment.evidence)


@login_required
@require_POST
def assessment_finalise_view(request, pk: int):
    """定稿 of one unit: its scores are then frozen; the county's ranking is final once every unit is."""
    assessment = _assessment_or_404(request, pk)
    try:
        services.assessment_finalise(assessment=assessment, by=request.user)
    except RuleViolation as exc:
        messages.error(request, f"未定稿：{exc.message}")
    else:
        messages.success(request, f"{assessment.year}年{assessment.area.name}的考核已定稿")
    return _back(assessment)


# --- the year: schemes, opening, contracts ---------------------------------------------------------


def _year_from(request, source) -> int:
    form = YearForm(source)
    if form.is_valid() and form.cleaned_data["year"]:
        return form.cleaned_data["year"]
    return timezone.localdate().year


@login_required
def year(request):
    """考核年度: the scheme in force and when it was published, whether the year is open, its units' state,
    the button that opens it (with the late-publication reason when the scheme came late)."""
    year = _year_from(request, request.GET)
    user = request.user
    try:
        scheme = services.scheme_for_year(year=year)
    except RuleViolation as exc:
        scheme, scheme_missing = None, exc.message
    else:
        scheme_missing = ""
    assessments = list(selectors.assessments_visible_to(user=user, year=year))
    records = selectors.assessment_year_records(user=user, year=year)
    context = {
        "year": year,
        "scheme": scheme,
        "scheme_missing": scheme_missing,
        "late": bool(scheme and scheme.published_late_for(year)),
        "records": records,
        "late_notices": [selectors.late_notice(r) for r in records if r.late_reason],
        "assessments": assessments,
        "final_count": sum(a.status == AssessmentStatus.FINAL for a in assessments),
        "schemes": selectors.schemes_for_year_page(user=user),
        "can_run": may_write(user, "scoring.year") and user.has_role(*services.YEAR_ROLES),
        "can_publish": user.has_role(Role.COUNTY_ADMIN),
        "open_form": YearOpenForm(initial={"year": year}),
    }
    return render(request, "scoring/year.html", context)


@login_required
@require_POST
def year_open(request):
    form = YearOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"未开启：{_form_errors(form)}")
        return redirect(reverse("scoring:year"))
    year = form.cleaned_data["year"]
    try:
        result = services.assessment_year_open(year=year, by=request.user, late_reason=form.cleaned_data["late_reason"])
    except RuleViolation as exc:
        messages.error(request, f"未开启：{exc.message}")
    else:
        created, existing = result.created, result.existing
        messages.success(request, f"{year}年考核已开启：新建{created}个单位的考核，已有{existing}个未改动")
    return redirect(f"{reverse('scoring:year')}?year={year}")


@login_required
@require_POST
def scheme_publish_view(request, pk: int):
    try:
        scheme = selectors.schemes_for_year_page(user=request.user).get(pk=pk)
    except Scheme.DoesNotExist:
        raise Http404 from None
    try:
        services.scheme_publish(scheme=scheme, by=request.user)
    except RuleViolation as exc:
        messages.error(request, f"未发布：{exc.message}")
    else:
        messages.success(request, f"已发布「{scheme}」")
    return redirect(f"{reverse('scoring:year')}?year={scheme.effective_from.year}")


@login_required
def contracts(request):
    """目标管理责任书 of a year, one per township, with their targets (county admin edits, assessors read)."""
    year = _year_from(request, request.GET)
    context = {
        "year": year,
        "rows": selectors.contracts_of_year(user=request.user, year=year),
        "can_edit": may_write(request.user, "scoring.contracts"),
    }
    return render(request, "scoring/contracts.html", context)


def _contract_indicators(year: int, contract: Contract | None) -> list[tuple[str, str]]:
    """The indicators a contract sets targets for: those the year's scheme scores, those the contract already
    has, then the rest of the catalogue."""
    try:
        scheme = services.scheme_for_year(year=year)
    except RuleViolation:
        scored = []
    else:
        scored = list(
            SchemeItem.objects.filter(scheme=scheme, method=ItemMethod.INDICATOR)
            .order_by("position")
            .values_list("indicator_code", flat=True)
        )
    had = [t.indicator_code for t in contract.targets.all()] if contract else []
    codes = list(dict.fromkeys([*scored, *had, *BY_CODE]))
    return [(code, BY_CODE[code].name if code in BY_CODE else code) for code in codes]


@login_required
def contract_edit(request, year: int, area_code: str):
    try:
        area = Area.objects.visible_to(request.user).get(code=area_code, level=AreaLevel.TOWNSHIP)
    except Area.DoesNotExist:
        raise Http404 from None
    contract = Contract.objects.filter(area=area, year=year).prefetch_related("targets").first()
    indicators = _contract_indicators(year, contract)
    initial = {"signed_on": contract.signed_on if contract else timezone.localdate(), "note": contract.note if contract
               else ""}  # fmt: skip
    for t in contract.targets.all() if contract else []:
        initial[f"direction_{t.indicator_code}"] = t.direction
        initial[f"target_{t.indicator_code}"] = t.target.normalize()
    form = ContractForm(request.POST or None, initial=initial, indicators=indicators)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_save(area=area, year=year, signed_on=form.cleaned_data["signed_on"],
                                   targets=form.targets(), note=form.cleaned_data["note"], by=request.user)  # fmt: skip
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已保存{year}年{area.name}的目标管理责任书")
            return redirect(f"{reverse('scoring:contracts')}?year={year}")
    return render(request, "scoring/contract_edit.html", {"form": form, "area": area, "year": year,
                                                          "contract": contract})  # fmt: skip
