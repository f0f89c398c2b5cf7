"""入户抽查 pages: the county's list and draw, one township's check (checklist, findings, result), the printable
visit checklist. Thin: reads through ``selectors`` (outside the user's area is a 404), writes through one
``services`` function each, whose ``RuleViolation`` is shown and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.errors import RuleViolation
from apps.core.privacy import mask_id_number
from apps.registry.models import Household, Person
from apps.scoring import selectors, services
from apps.scoring.models import FindingKind, SampleCheck, SampleCheckStatus


def _posted_id(request, name: str) -> int:
    """A record id from the form; 0 (no record) for anything that is not one."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else 0


def _sample_or_404(request, pk: int) -> SampleCheck:
    try:
        return selectors.sample_checks_visible(user=request.user).get(pk=pk)
    except SampleCheck.DoesNotExist:
        raise Http404 from None


@login_required
def sample_check_list(request):
    checks = selectors.sample_checks_with_accuracy(user=request.user)
    return render(
        request,
        "scoring/sample_check_list.html",
        {
            "checks": checks,
            "year": timezone.localdate().year,
            "may_draw": request.user.has_role(*services.SAMPLE_ROLES),
        },
    )


@login_required
@require_POST
def sample_check_draw(request):
    try:
        year = int(request.POST.get("year", ""))
        created = services.sample_checks_draw(year=year, by=request.user)
    except ValueError:
        messages.error(request, "请填写考核年度")
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已为{len(created)}个乡镇抽样")
    return redirect("scoring:sample_check_list")


def _members(request, sample: SampleCheck) -> list[Person]:
    findings = {f.person_id: f for f in sample.findings.filter(person__isnull=False)}
    members = list(selectors.sample_members(sample=sample))
    for person in members:
        person.shown_id = mask_id_number(person.id_number)  # the checkers read the name and the household
        person.finding = findings.get(person.pk)
    return members


@login_required
def sample_check_detail(request, pk: int):
    sample = _sample_or_404(request, pk)
    return render(
        request,
        "scoring/sample_check_detail.html",
        {
            "sample": sample,
            "members": _members(request, sample),
            "households": sample.households.select_related("household__village"),
            "unregistered": sample.findings.filter(person__isnull=True).select_related("household"),
            "accuracy": selectors.sample_accuracy(sample=sample),
            "kinds": [(k, FindingKind(k).label) for k in ("found", "not_found", "wrong_field")],
            "open": sample.status == SampleCheckStatus.OPEN,
            "may_enter": sample.status == SampleCheckStatus.OPEN and request.user.has_role(*services.SAMPLE_ROLES),
        },
    )


@login_required
def sample_check_print(request, pk: int):
    """入户核查表: the sampled households and their registered members, to fill in at the door."""
    sample = _sample_or_404(request, pk)
    return render(request, "scoring/sample_check_print.html", {"sample": sample, "members": _members(request, sample)})


@login_required
@require_POST
def sample_finding_save(request, pk: int):
    sample = _sample_or_404(request, pk)
    try:
        if request.POST.get("kind") in (FindingKind.UNREGISTERED_PERSON, FindingKind.UNREGISTERED_EVENT):
            household = sample.households.filter(household_id=_posted_id(request, "household")).first()
            if household is None:
                raise RuleViolation("请选择抽中的户")
            services.sample_unregistered_record(
                sample=sample, household=Household.objects.get(pk=household.household_id),
                kind=request.POST["kind"], note=request.POST.get("note", ""), by=request.user,
            )  # fmt: skip
        else:
            person = selectors.sample_members(sample=sample).filter(pk=_posted_id(request, "person")).first()
            if person is None:
                raise RuleViolation("该人员不在抽中的户内")
            services.sample_finding_record(
                sample=sample, person=person, kind=request.POST.get("kind", ""), field=request.POST.get("field", ""),
                note=request.POST.get("note", ""), by=request.user,
            )  # fmt: skip
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已录入核查结果")
    return redirect("scoring:sample_check_detail", pk=sample.pk)


@login_required
@require_POST
def sample_check_close(request, pk: int):
    sample = _sample_or_404(request, pk)
    try:
        sample = services.sample_check_close(sample=sample, by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "抽查已结束，随机种子已公布" + ("，已提出扣分建议，待他人审核" if sample.adjustment_id else "")
        )
    return redirect("scoring:sample_check_detail", pk=sample.pk)
