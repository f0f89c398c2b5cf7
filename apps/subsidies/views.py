"""Pages of the subsidy workflow. Thin: reads through ``selectors`` (outside the user's area is a 404), each
write through one ``services`` function whose ``RuleViolation`` is shown to the user, changing nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from apps.core.errors import RuleViolation
from apps.core.pagecache import cached_page
from apps.core.privacy import mask_account, mask_id_number
from apps.subsidies import exports, selectors, services
from apps.subsidies.eligibility import reference_date
from apps.subsidies.forms import (
    AccountForm,
    CommentForm,
    CorrectionForm,
    GenerateForm,
    ObjectionDecisionForm,
    ObjectionForm,
    OnBehalfForm,
    ReturnFileForm,
)
from apps.subsidies.models import (
    Change,
    Objection,
    ObjectionStatus,
    PaymentBatch,
    ProgrammeRule,
    Roster,
    RosterEntry,
    RosterStatus,
    StepKind,
)

PAGE_SIZE = 100


def _roster_or_404(request, pk: int) -> Roster:
    try:
        return selectors.roster_get_visible(user=request.user, pk=pk)
    except Roster.DoesNotExist:
        raise Http404 from None


def _batch_or_404(request, pk: int) -> PaymentBatch:
    try:
        return selectors.batch_get_visible(user=request.user, pk=pk)
    except PaymentBatch.DoesNotExist:
        raise Http404 from None


@login_required
@cached_page("subsidies", "registry", "areas")
def roster_list(request):
    rosters = selectors.rosters_visible_to(
        user=request.user,
        programme=request.GET.get("programme", ""),
        period=request.GET.get("period", "")[:8],
        status=request.GET.get("status", "") if request.GET.get("status") in RosterStatus.values else "",
    )
    page = Paginator(rosters, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/roster_list.html",
        {
            "page": page,
            "programmes": selectors.programmes_list(),
            "generate_form": GenerateForm(),
            "may_generate": request.user.has_role("subsidy_reviewer", "subsidy_approver", "county_admin")
            and (request.user.is_superuser or getattr(request.user.area, "level", "") == "county"),
            "statuses": RosterStatus.choices,
        },
    )


@login_required
@require_POST
def roster_generate_view(request):
    form = GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择项目并填写期间")
        return redirect("subsidies:roster_list")
    programme = form.cleaned_data["programme"]
    try:
        period = services.rosters_generate_request(
            programme=programme, period=form.cleaned_data["period"], by=request.user
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"已开始{programme.name}{period}资格认定（后台计算全县，约需一分钟内），完成后名册显示在下方"
        )
    query = urlencode({"period": (request.POST.get("period") or "")[:8]})
    return redirect(f"{reverse('subsidies:roster_list')}?{query}")


def _shown_entries(request, roster: Roster):
    change = request.GET.get("change", "")
    entries = selectors.roster_entries(
        roster=roster, user=request.user, change=change if change in Change.values else ""
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    full = request.user.may_see_full_ids
    for e in page.object_list:
        e.shown_id = e.person.id_number if full else mask_id_number(e.person.id_number)
        e.shown_account = mask_account(e.account_number)
    return page


@login_required
def roster_detail(request, pk: int):
    roster = _roster_or_404(request, pk)
    user = request.user
    level = getattr(user.area, "level", "")
    village_level = level == "village"
    returned = roster.status == RosterStatus.DRAFT and roster.steps.filter(kind=StepKind.RETURN, superseded=False)
    approved = roster.status == RosterStatus.APPROVED
    in_notice = approved and roster.notice_ends_on is not None and timezone.localdate() < roster.notice_ends_on
    objections = selectors.roster_objections(roster=roster, user=user)
    return render(
        request,
        "subsidies/roster_detail.html",
        {
            "roster": roster,
            "summary": selectors.roster_summary(roster=roster, user=user),
            "page": _shown_entries(request, roster),
            "steps": selectors.roster_steps(roster=roster),
            "pending_villages": selectors.roster_villages_pending(roster=roster),
            "comment_form": CommentForm(),
            "may_submit": roster.status == RosterStatus.DRAFT and user.has_role("village_clerk") and village_level,
            "may_submit_on_behalf": roster.status == RosterStatus.DRAFT
            and user.has_role("subsidy_reviewer")
            and level == "township",
            "may_review": roster.status == RosterStatus.SUBMITTED
            and user.has_role("subsidy_reviewer")
            and not village_level,
            "may_approve": roster.status == RosterStatus.REVIEWED and user.has_role("subsidy_approver"),
            "may_pay": approved
            and user.has_role("subsidy_reviewer", "subsidy_approver", "county_admin")
            and roster.approved_by_id != user.pk,
            "may_edit_accounts": user.has_role("village_clerk", "township_clerk", "subsidy_reviewer", "county_admin"),
            "may_correct": bool(returned)
            and not roster.programme.by_application
            and user.has_role("village_clerk", "subsidy_reviewer"),
            "rules": services.rules_in_force(
                programme=roster.programme,
                on=reference_date(programme=roster.programme, start=roster.period_start, end=roster.period_end),
            ),
            "corrections": selectors.roster_corrections(roster=roster, user=user),
            "objections": objections,
            "open_objections": sum(1 for o in objections if o.status == ObjectionStatus.OPEN),
            "may_object": in_notice and user.has_role(*services.OBJECTION_ROLES),
            "may_decide_objections": approved and user.has_role(*services.OBJECTION_ROLES),
            "unpaid": selectors.roster_unpaid(roster=roster, user=user) if approved else [],
            "batches": roster.batches.order_by("-id"),
            "changes": Change.choices,
        },
    )


def _done(request, roster: Roster, message: str):
    messages.success(request, message)
    return redirect("subsidies:roster_detail", pk=roster.pk)


def _refused(request, roster: Roster, message: str):
    messages.error(request, message)
    return redirect("subsidies:roster_detail", pk=roster.pk)


@login_required
@require_POST
def roster_submit_on_behalf(request, pk: int):
    """乡镇代村上报 (a village named by code, with the reason)."""
    roster = _roster_or_404(request, pk)
    form = OnBehalfForm(request.POST)
    if not form.is_valid():
        return _refused(request, roster, "请选择村并填写代为上报的原因")
    try:
        services.roster_village_submit_on_behalf(
            roster=roster,
            village_code=form.cleaned_data["village"],
            by=request.user,
            comment=form.cleaned_data["comment"],
        )
    except RuleViolation as exc:
        return _refused(request, roster, exc.message)
    return _done(request, roster, "已代村上报")


def _entry_or_none(request, roster: Roster, entry_pk: int | None) -> RosterEntry | None:
    if entry_pk is None:
        return None
    try:
        return RosterEntry.objects.visible_to(request.user).get(pk=entry_pk, roster=roster)
    except RosterEntry.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def roster_correct(request, pk: int):
    """名册更正 of a returned roster: add a person (by ID number), remove or re-categorise an entry."""
    roster = _roster_or_404(request, pk)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        return _refused(request, roster, "请填写更正原因")
    data = form.cleaned_data
    rule = None
    if data["action"] in ("add", "change"):
        rule = ProgrammeRule.objects.filter(programme=roster.programme, pk=data["rule"]).first()
        if rule is None:
            return _refused(request, roster, "请选择类别")
    try:
        if data["action"] == "add":
            person = selectors.person_to_add(user=request.user, id_number=data["id_number"])
            services.roster_entry_add(roster=roster, person=person, rule=rule, by=request.user, reason=data["reason"])
        else:
            entry = _entry_or_none(request, roster, data["entry"])
            if entry is None:
                return _refused(request, roster, "请选择名册人员")
            if data["action"] == "remove":
                services.roster_entry_remove(entry=entry, by=request.user, reason=data["reason"])
            else:
                services.roster_entry_change(entry=entry, rule=rule, by=request.user, reason=data["reason"])
    except RuleViolation as exc:
        return _refused(request, roster, exc.message)
    return _done(request, roster, "已更正名册")


@login_required
@require_POST
def objection_create(request, pk: int):
    """登记公示异议."""
    roster = _roster_or_404(request, pk)
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        return _refused(request, roster, "请填写异议人、异议内容和收到日期")
    data = form.cleaned_data
    try:
        services.objection_record(
            roster=roster, by=request.user, objector=data["objector"], content=data["content"],
            received_on=data["received_on"], entry=_entry_or_none(request, roster, data["entry"]),
        )  # fmt: skip
    except RuleViolation as exc:
        return _refused(request, roster, exc.message)
    return _done(request, roster, "已登记公示异议")


@login_required
@require_POST
def objection_decide(request, pk: int, objection_pk: int):
    """处理公示异议."""
    roster = _roster_or_404(request, pk)
    try:
        objection = Objection.objects.visible_to(request.user).get(pk=objection_pk, roster=roster)
    except Objection.DoesNotExist:
        raise Http404 from None
    form = ObjectionDecisionForm(request.POST)
    if not form.is_valid():
        return _refused(request, roster, "请选择处理结果并填写核查意见")
    try:
        services.objection_decide(
            objection=objection, upheld=form.cleaned_data["upheld"], decision=form.cleaned_data["decision"],
            by=request.user,
        )  # fmt: skip
    except RuleViolation as exc:
        return _refused(request, roster, exc.message)
    return _done(request, roster, "已处理公示异议")


ACTIONS = {
    "submit": (services.roster_village_submit, "已上报"),
    "review": (services.roster_review, "已审核，报县级审批"),
    "approve": (services.roster_approve, "已审批，进入公示"),
    "return": (services.roster_return, "已退回"),
}


@login_required
@require_POST
def roster_action(request, pk: int, action: str):
    roster = _roster_or_404(request, pk)
    if action not in ACTIONS:
        raise Http404
    form = CommentForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    service, done = ACTIONS[action]
    try:
        service(roster=roster, by=request.user, comment=comment)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("subsidies:roster_detail", pk=roster.pk)


@login_required
def roster_notice(request, pk: int):
    """公示名单: printable, ID numbers always masked (it is posted in public)."""
    roster = _roster_or_404(request, pk)
    entries = selectors.roster_entries(roster=roster, user=request.user).exclude(change=Change.LEAVING)
    rows = [
        {"name": e.person.name, "id": mask_id_number(e.person.id_number), "village": e.village.name, "entry": e}
        for e in entries
    ]
    return render(request, "subsidies/roster_notice.html", {"roster": roster, "rows": rows})


@login_required
def roster_export_view(request, pk: int):
    """花名册 (Excel): the entries the user may see, ID and account numbers masked."""
    roster = _roster_or_404(request, pk)
    return exports.roster_export(roster=roster, user=request.user).response()


@login_required
def roster_notice_export_view(request, pk: int):
    """公示名单 (Excel), masked like the printed notice."""
    roster = _roster_or_404(request, pk)
    return exports.roster_notice_export(roster=roster, user=request.user).response()


@login_required
def account_edit(request, pk: int, entry_pk: int):
    roster = _roster_or_404(request, pk)
    try:
        entry = (
            RosterEntry.objects.visible_to(request.user)
            .select_related("payee", "person")
            .get(pk=entry_pk, roster=roster)
        )
    except RosterEntry.DoesNotExist:
        raise Http404 from None
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.bank_account_save(person=entry.payee, by=request.user, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"已登记{entry.payee.name}的领取账户")
            return redirect("subsidies:roster_detail", pk=roster.pk)
    return render(request, "subsidies/account_form.html", {"roster": roster, "entry": entry, "form": form})


@login_required
@require_POST
def batch_create_view(request, pk: int):
    roster = _roster_or_404(request, pk)
    try:
        batch = services.batch_create(roster=roster, by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
        return redirect("subsidies:roster_detail", pk=roster.pk)
    messages.success(request, f"已生成发放批次{batch.pk}")
    return redirect("subsidies:batch_detail", pk=batch.pk)


@login_required
@cached_page("subsidies", "registry", "areas")
def batch_list(request):
    page = Paginator(selectors.batches_visible_to(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "subsidies/batch_list.html", {"page": page})


@login_required
def batch_detail(request, pk: int):
    batch = _batch_or_404(request, pk)
    payments = Paginator(selectors.batch_payments(batch=batch, user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    full = request.user.may_see_full_ids
    for p in payments.object_list:
        p.shown_id = p.payee.id_number if full else mask_id_number(p.payee.id_number)
    summary = selectors.batches_visible_to(user=request.user).get(pk=batch.pk)
    return render(
        request,
        "subsidies/batch_detail.html",
        {
            "batch": batch,
            "payments": payments,
            "summary": summary,
            "form": ReturnFileForm(),
            "unpaid": selectors.roster_unpaid(roster=batch.roster, user=request.user),
        },
    )


@login_required
def batch_export_view(request, pk: int, fmt: str):
    batch = _batch_or_404(request, pk)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        download = exports.batch_export(batch=batch, fmt=fmt, by=request.user)
    except RuleViolation:
        raise Http404 from None  # the role or the area may not see the accounts: as if there were no file
    return download.response()


@login_required
@require_POST
def batch_return_view(request, pk: int):
    batch = _batch_or_404(request, pk)
    form = ReturnFileForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择银行回盘文件")
        return redirect("subsidies:batch_detail", pk=batch.pk)
    upload = form.cleaned_data["file"]
    if upload.size > 20 * 1024 * 1024:
        messages.error(request, "回盘文件不能超过20MB")
        return redirect("subsidies:batch_detail", pk=batch.pk)
    try:
        summary = services.batch_import_return(batch=batch, name=upload.name, content=upload.read(), by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"回盘已导入：成功{summary.paid}笔，失败{summary.failed}笔，待回盘{summary.pending}笔"
        )
    return redirect("subsidies:batch_detail", pk=batch.pk)
