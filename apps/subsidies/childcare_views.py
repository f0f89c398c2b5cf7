"""Pages of 育儿补贴申领: the list (masked), the clerk's entry form, withdrawing or refusing one. Thin: reads
through ``childcare_selectors`` (outside the user's area is a 404), writes through ``childcare_services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from apps.core.errors import RuleViolation
from apps.core.privacy import mask_account, mask_id_number
from apps.subsidies import childcare_selectors, childcare_services
from apps.subsidies.forms import ChildcareApplicationForm, ChildcareCloseForm
from apps.subsidies.models import ApplicationStatus, ChildcareApplication

WRITERS = ("village_clerk", "township_clerk", "subsidy_reviewer", "county_admin")


@login_required
def childcare_list(request):
    applications = childcare_selectors.childcare_applications_visible_to(
        user=request.user, status=request.GET.get("status", ""), q=request.GET.get("q", "").strip()[:20]
    )
    page = Paginator(applications, 50).get_page(request.GET.get("page"))
    for a in page.object_list:
        a.child_id_shown = mask_id_number(a.child.id_number)
        a.applicant_id_shown = mask_id_number(a.applicant.id_number)
        a.account_shown = mask_account(a.account.account_number)
    return render(
        request,
        "subsidies/childcare_list.html",
        {"page": page, "statuses": ApplicationStatus.choices, "may_write": request.user.has_role(*WRITERS)},
    )


@login_required
def childcare_create(request):
    form = ChildcareApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = childcare_services.childcare_application_submit(by=request.user, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"已受理{application.child.name}的育儿补贴申领（申请人：{application.applicant.name}）"
            )
            return redirect("subsidies:childcare_list")
    return render(request, "subsidies/childcare_form.html", {"form": form})


@login_required
def childcare_close(request, pk: int):
    try:
        application = childcare_selectors.childcare_application_get_visible(user=request.user, pk=pk)
    except ChildcareApplication.DoesNotExist:
        raise Http404 from None
    form = ChildcareCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            childcare_services.childcare_application_close(
                application=application, by=request.user, **form.cleaned_data
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "已更新申领状态")
            return redirect("subsidies:childcare_list")
    return render(
        request,
        "subsidies/childcare_close.html",
        {"form": form, "application": application, "child_id_shown": mask_id_number(application.child.id_number)},
    )
