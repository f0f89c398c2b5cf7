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
from apps.core.errors import RuleViolation
from apps.core.exports import office_name
from apps.scoring import selectors, services
from apps.scoring.calculation import fmt
from apps.scoring.exports import results_xlsx
from apps.scoring.forms import AdjustmentClaimForm, DecisionForm, ManualScoreForm, YearForm
from apps.scoring.models import (
    Adjustment,
    AdjustmentStatus,
    Assessment,
    AssessmentStatus,
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
        scheme = selectors.schemes_visible_to(user=request.user).get(pk=pk)
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
    context = {
        "assessment": assessment,
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
            assessment=assessment, rule=data["rule"], note=data["note"], chosen_points=data["chosen_points"],
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
