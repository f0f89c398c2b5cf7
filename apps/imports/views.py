"""The import pages: upload (always a dry run first), the job page with a live progress bar and the result,
confirming the real import, the error report. For county admins and township clerks (others: 403).

Views are thin: jobs are read through ``selectors.jobs_visible_to`` (a job outside the user's area is a 404)
and every write is one function of ``services``, whose ``RuleViolation`` is shown beside the field it names.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import RuleViolation
from apps.imports import selectors, services
from apps.imports.engine import FIRST_ERRORS_KEPT
from apps.imports.forms import CommitForm, UploadForm
from apps.imports.kinds import SPECS
from apps.imports.models import ImportJob, ImportStatus

PAGE_SIZE = 50
ERRORS_SHOWN = 100
# An unfinished job with no news for this long may have lost its worker or its queue message: offer to rerun.
STALLED_AFTER = timedelta(minutes=5)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def importer_required(view):
    """Bulk import is for county admins and township clerks (services.may_import); other roles get a 403."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not services.may_import(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _job_or_404(request, pk: int) -> ImportJob:
    return get_object_or_404(selectors.jobs_visible_to(user=request.user), pk=pk)


def _job_context(request, job: ImportJob, *, commit_form: CommitForm | None = None) -> dict:
    errors = [e for e in job.first_errors if not e.get("warning")]
    context = {
        "job": job,
        "errors": errors[:ERRORS_SHOWN],
        # first_errors keeps the first FIRST_ERRORS_KEPT; the error report has every one.
        "errors_truncated": len(errors) > ERRORS_SHOWN or len(errors) >= FIRST_ERRORS_KEPT,
        "warnings": [e for e in job.first_errors if e.get("warning")],
        "valid_rows": max(job.rows - job.rejected, 0),
        "progress": None,
        "stalled": False,
    }
    if not job.is_finished:
        context["progress"] = selectors.import_job_progress(job=job)
        context["stalled"] = timezone.now() - (job.started_at or job.created_at) > STALLED_AFTER
    if job.dry_run and job.status == ImportStatus.VALIDATED and context["valid_rows"]:
        context["commit_form"] = commit_form or CommitForm(user=request.user, initial={"mode": job.mode})
    elif commit_form is not None:  # a confirmation this job does not offer (e.g. posted from a stale page)
        context["commit_errors"] = [e for errors in commit_form.errors.values() for e in errors]
    return context


@importer_required
@require_GET
def job_list(request):
    jobs = selectors.jobs_visible_to(user=request.user)
    jobs = jobs.order_by("-created_at", "-id")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {"page": page})


@importer_required
@require_http_methods(["GET", "POST"])
def job_create(request):
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None, user=request.user)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_submit(
                kind=form.cleaned_data["kind"],
                fileobj=upload,
                file_name=upload.name,
                user=request.user,
                mode=form.cleaned_data["mode"],
            )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.info(request, f"已上传“{job.file_name}”，正在试导入（只校验，不写入）")
            return redirect("imports:detail", pk=job.pk)
    kinds = [(value, label, SPECS[value].columns) for value, label in form.fields["kind"].choices]
    return render(request, "imports/create.html", {"form": form, "kinds": kinds})


@importer_required
@require_GET
def job_detail(request, pk: int):
    job = _job_or_404(request, pk)
    return render(request, "imports/detail.html", _job_context(request, job))


@importer_required
@require_GET
def job_progress(request, pk: int):
    """The polled part of the job page: the progress bar while the job runs, its result once it is finished
    (which carries no polling trigger, so the browser stops asking)."""
    job = _job_or_404(request, pk)
    return render(request, "imports/_job_status.html", _job_context(request, job))


@importer_required
@require_POST
def job_commit(request, pk: int):
    """确认导入: a new job writes the rows of this validated dry run, in the mode chosen now."""
    job = _job_or_404(request, pk)
    form = CommitForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            new = services.import_job_commit(job=job, user=request.user, mode=form.cleaned_data["mode"])
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.info(request, f"已开始导入“{new.file_name}”")
            return redirect("imports:detail", pk=new.pk)
    return render(request, "imports/detail.html", _job_context(request, job, commit_form=form), status=400)


@importer_required
@require_POST
def job_requeue(request, pk: int):
    job = _job_or_404(request, pk)
    try:
        services.import_job_requeue(job=job, user=request.user)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, "已重新排队运行")
    return redirect("imports:detail", pk=job.pk)


@importer_required
@require_GET
def job_error_report(request, pk: int):
    """The error report, streamed through this scoped view: it holds the original rows (full ID numbers), so it
    is never served as a public media URL."""
    job = _job_or_404(request, pk)
    if not job.error_report:
        raise Http404
    try:
        report = job.error_report.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(report, as_attachment=True, filename=f"导入错误报告-{job.pk}.xlsx", content_type=XLSX)
