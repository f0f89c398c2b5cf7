"""Pages of the fee app for township fee officers (county admins act too; county viewers read).

Thin views: reads go through ``selectors`` (a case outside the user's area is a 404), each write calls one
service; a ``RuleViolation`` is shown beside its field, a ``PermissionDenied`` is a 403.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.models import Role
from apps.core.audit import history_for
from apps.core.errors import RuleViolation
from apps.core.pagecache import cached_page
from apps.core.privacy import mask_id_number
from apps.core.scoping import in_scope
from apps.fees import selectors, services
from apps.fees.forms import (
    CaseFilterForm,
    DecisionForm,
    InstalmentForm,
    LedgerForm,
    PaymentForm,
    ReasonForm,
    RefundForm,
    ReversalForm,
    TerminateForm,
    TransferForm,
)
from apps.fees.models import OPEN_STATES, FeeCase, FeeCaseState, Payment, PaymentKind
from apps.fees.printing import amount_in_words
from apps.registry.models import Birth

PAGE_SIZE = 50


def _acts_on(user, case: FeeCase, roles=services.OFFICER_ROLES) -> bool:
    """Whether the page offers the actions (the services check again, whatever the page shows)."""
    return user.has_role(*roles) and in_scope(user, case.home_township_id)


def _case_or_404(request, pk: int) -> FeeCase:
    try:
        return selectors.fee_case_get_visible(user=request.user, pk=pk)
    except FeeCase.DoesNotExist:
        raise Http404("未找到该案件，或不在您的管辖范围内") from None


def _payment_or_404(request, pk: int) -> Payment:
    try:
        return selectors.payment_get_visible(user=request.user, pk=pk)
    except Payment.DoesNotExist:
        raise Http404("未找到该票据，或不在您的管辖范围内") from None


def _id_shown(user, number: str | None) -> str:
    return (number if user.may_see_full_ids else mask_id_number(number)) or "（无）"


ARCHIVE_MESSAGE = "社会抚养费已停止征收，且没有未结案件：征收页面为只读档案，只能查阅台账、决定书和票据"


def _archive(request) -> bool:
    return selectors.fee_archive(user=request.user, today=timezone.localdate())


def _refused_in_archive(request, back):
    """A write page of the archive answers with a polite message and goes back (refunds, the one way money
    still moves, are not refused). Called after the record's own lookup, so another area's record stays a 404."""
    if _archive(request):
        messages.error(request, ARCHIVE_MESSAGE)
        return redirect(back)
    return None


# --- lists ------------------------------------------------------------------------------------------


@login_required
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    cases = selectors.fee_cases_visible_to(user=request.user, state=filters.get("state", ""), q=filters.get("q", ""))
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    archive = selectors.fee_archive(user=request.user, today=today)
    ended = selectors.fee_ended(day=today)
    awaiting = review = None
    if request.user.has_role(*services.OFFICER_ROLES) and not archive:
        if not ended:  # after the end no case is opened: no list of births awaiting one
            awaiting = selectors.births_awaiting_case(user=request.user, today=today)[:PAGE_SIZE]
        review = selectors.fee_cases_needing_review(user=request.user)
        review = {"count": review.count(), "cases": review[:PAGE_SIZE]}
    end = selectors.fee_end()
    context = {
        "form": form,
        "page": page,
        "awaiting": awaiting,
        "review": review,
        "end": end,
        "ended": ended,
        "archive": archive,
        "can_terminate": ended and not archive and request.user.has_role(*services.COUNTY_ROLES),
    }
    return render(request, "fees/case_list.html", context)


@login_required
def enforcement_list(request):
    today = timezone.localdate()
    try:
        cases = list(selectors.enforcement_referrals(user=request.user, today=today))
        days = selectors.fee_policy_on(day=today).enforcement_after_days
    except RuleViolation as exc:
        messages.error(request, exc.message)
        cases, days = [], None
    context = {"cases": cases, "days": days, "today": today, "end": selectors.fee_end()}
    context["ended"] = selectors.fee_ended(day=today)
    return render(request, "fees/enforcement_list.html", context)


@login_required
@cached_page("fees", "registry", "areas")
def ledger(request):
    form = LedgerForm(request.GET or None)
    rows, total = [], None
    if not request.GET:
        form = LedgerForm({})
    if form.is_valid():
        rows = selectors.township_ledger(
            user=request.user, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        total = selectors.ledger_total(rows=rows)
    return render(request, "fees/ledger.html", {"form": form, "rows": rows, "total": total})


# --- a case -----------------------------------------------------------------------------------------


@require_POST
@login_required
def case_open(request, birth_pk: int):
    try:
        birth = Birth.objects.visible_to(request.user).get(pk=birth_pk)
    except Birth.DoesNotExist:
        raise Http404("未找到该出生登记，或不在您的管辖范围内") from None
    if refused := _refused_in_archive(request, "fees:case_list"):
        return refused
    try:
        case = services.fee_case_open(birth=birth, by=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
        return redirect("fees:case_list")
    messages.success(request, f"已立案：应征额{case.range_min:,.2f}元至{case.range_max:,.2f}元")
    return redirect(case)


@login_required
def case_detail(request, pk: int):
    case = _case_or_404(request, pk)
    plan = getattr(case, "instalment_plan", None)
    context = {
        "case": case,
        "mother_id": _id_shown(request.user, case.mother.id_number),
        "father_id": _id_shown(request.user, case.father.id_number) if case.father else "",
        "entries": selectors.fee_case_entries(case=case),
        "plan": plan,
        "dues": list(plan.dues.all()) if plan else [],
        "transfers": list(case.transfers.select_related("from_township", "to_township")),
        "history": history_for(obj=case, user=request.user),
        "review_reason": selectors.fee_case_review_reason(case=case),
        "archive": (archive := _archive(request)),
        "can_act": _acts_on(request.user, case) and not archive,
        "can_county": _acts_on(request.user, case, roles=(Role.COUNTY_ADMIN,)),
        "S": FeeCaseState,
        "payable": case.state in services.PAYABLE_STATES,
    }
    return render(request, "fees/case_detail.html", context)


def _case_form_view(
    request,
    pk: int,
    *,
    form_class,
    title: str,
    call: Callable[[FeeCase, dict], object],
    done: Callable[[object], str],
    form_kwargs: dict | None = None,
    closing: bool = False,
):
    case = _case_or_404(request, pk)
    if not closing and (refused := _refused_in_archive(request, case)):
        return refused
    kwargs = {"user": request.user, **(form_kwargs or {})}
    if form_class is TransferForm:
        kwargs["case"] = case
    form = form_class(request.POST if request.method == "POST" else None, **kwargs)
    if form.is_valid():
        try:
            result = call(case, form.cleaned_data)
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, done(result))
            return redirect(case)
    return render(request, "fees/form.html", {"form": form, "title": title, "case": case})


@login_required
@require_http_methods(["GET", "POST"])
def case_decide(request, pk: int):
    def call(case, d):
        return services.fee_case_decide(case=case, by=request.user, **d)

    return _case_form_view(
        request, pk, form_class=DecisionForm, title="作出征收决定", call=call,
        done=lambda c: f"已作出征收决定 {c.decision_number}，征收{c.decided_amount:,.2f}元",
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def case_instalments(request, pk: int):
    def call(case, d):
        return services.fee_case_instalments_grant(case=case, by=request.user, **d)

    return _case_form_view(
        request, pk, form_class=InstalmentForm, title="登记分期缴纳", call=call,
        done=lambda p: f"已登记分期缴纳：{p.months}期",
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def payment_create(request, pk: int):
    def call(case, d):
        return services.payment_record(case=case, by=request.user, **d)

    return _case_form_view(
        request, pk, form_class=PaymentForm, title="登记缴款", call=call,
        done=lambda p: f"已收款{p.amount:,.2f}元，票据号{p.receipt_number}",
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def refund_create(request, pk: int):
    def call(case, d):
        return services.refund_record(case=case, by=request.user, **d)

    return _case_form_view(
        request, pk, form_class=RefundForm, title="办理退款", call=call, closing=True,
        done=lambda r: f"已退款{r.amount:,.2f}元，凭证号{r.voucher_number}",
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def case_transfer(request, pk: int):
    def call(case, d):
        return services.fee_case_transfer(case=case, by=request.user, **d)

    return _case_form_view(
        request, pk, form_class=TransferForm, title="移交案件", call=call,
        done=lambda t: f"已移交{t.to_township.name}，发现地分成{t.share_percent}%",
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def case_refer(request, pk: int):
    def call(case, d):
        return services.fee_case_refer_enforcement(case=case, by=request.user, **d)

    return _case_form_view(
        request, pk, form_class=ReasonForm, title="移送强制执行", call=call, done=lambda c: "已移送强制执行"
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_withdraw(request, pk: int):
    def call(case, d):
        return services.fee_case_withdraw(case=case, by=request.user, **d)

    return _case_form_view(request, pk, form_class=ReasonForm, title="撤销案件", call=call, done=lambda c: "案件已撤销")


@login_required
@require_http_methods(["GET", "POST"])
def payment_reverse(request, pk: int):
    payment = _payment_or_404(request, pk)
    if payment.kind != PaymentKind.PAYMENT:
        raise Http404("冲正记录不能再冲正")
    if refused := _refused_in_archive(request, payment.case):
        return refused
    form = ReversalForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_valid():
        try:
            services.payment_reverse(payment=payment, by=request.user, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已冲正票据{payment.receipt_number}")
            return redirect(payment.case)
    title = f"冲正缴款 {payment.receipt_number}（{payment.amount:,.2f}元）"
    return render(request, "fees/form.html", {"form": form, "title": title, "case": payment.case})


# --- the fee's end ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def terminate(request):
    """停征后批量终止未结案件: the county's one reasoned action, with a count to check before confirming."""
    if not request.user.has_role(*services.COUNTY_ROLES):
        raise PermissionDenied("您的角色不能批量终止征收")
    form = TerminateForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_valid():
        try:
            done = services.fee_cases_terminate(reason=form.cleaned_data["reason"], by=request.user)
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已终止{done.cases}件未结案件，已收款项保留在台账上")
            return redirect("fees:case_list")
    open_cases = selectors.fee_cases_visible_to(user=request.user).filter(state__in=OPEN_STATES)
    context = {
        "form": form,
        "end": selectors.fee_end(),
        "ended": selectors.fee_ended(day=timezone.localdate()),
        "counts": selectors.fee_cases_by_state(cases=open_cases),
    }
    return render(request, "fees/terminate.html", context)


# --- printed documents ------------------------------------------------------------------------------


@login_required
def decision_notice(request, pk: int):
    case = _case_or_404(request, pk)
    if case.decided_amount is None:
        raise Http404("尚未作出征收决定")
    context = {
        "case": case,
        "mother_id": _id_shown(request.user, case.mother.id_number),
        "father_id": _id_shown(request.user, case.father.id_number) if case.father else "",
        "amount_words": amount_in_words(case.decided_amount),
    }
    return render(request, "fees/print_notice.html", context)


@login_required
def receipt(request, pk: int):
    payment = _payment_or_404(request, pk)
    case = payment.case
    context = {
        "payment": payment,
        "case": case,
        "payer_id": _id_shown(request.user, case.mother.id_number),
        "amount_words": amount_in_words(payment.amount),
        "basis": selectors.legal_basis_on(day=payment.paid_on),
    }
    return render(request, "fees/print_receipt.html", context)


@login_required
def termination_notice(request, pk: int):
    """终止征收通知书: a terminated case's notice, citing the basis in force on the termination date."""
    case = _case_or_404(request, pk)
    if case.state != FeeCaseState.TERMINATED:
        raise Http404("该案件未终止征收")
    context = {
        "case": case,
        "mother_id": _id_shown(request.user, case.mother.id_number),
        "father_id": _id_shown(request.user, case.father.id_number) if case.father else "",
        "basis": selectors.legal_basis_on(day=case.closed_on),
        "outstanding_words": amount_in_words(case.outstanding_amount) if case.decided_amount is not None else "",
    }
    return render(request, "fees/print_termination.html", context)
