"""Pages of the population registry for village and township clerks (county viewers may read).

Views are thin: every read goes through ``selectors`` (so an object outside the user's area is a 404), every
write through one ``services`` function whose ``RuleViolation`` is shown beside the form field it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from apps.accounts.models import Role
from apps.areas.selectors import area_labels
from apps.core.audit import history_for, history_for_objects
from apps.core.errors import RuleViolation
from apps.core.pagecache import cached_page
from apps.core.privacy import mask_phone
from apps.core.scoping import in_scope
from apps.registry import selectors, services
from apps.registry.forms import (
    BirthCorrectionForm,
    BirthForm,
    ContraceptionCorrectionForm,
    ContraceptionEndForm,
    ContraceptionForm,
    DeathCorrectionForm,
    DeathForm,
    MarriageCorrectionForm,
    MarriageForm,
    MoveCorrectionForm,
    MoveForm,
    PermitCorrectionForm,
    PersonEditForm,
    PersonForm,
    PersonMergeForm,
    PolicyOverrideForm,
    QualityForm,
    VoidForm,
)
from apps.registry.models import Birth, ContraceptiveUse, Household, Person, QualityList, Sex
from apps.registry.quality import quality_findings_refresh, quality_refresh_due
from apps.registry.services import (
    ChildData,
    PersonData,
    birth_policy_override,
    birth_record,
    contraception_end,
    contraception_record,
    death_record,
    household_create,
    marriage_record,
    move_record,
    party_resolve,
    person_create,
    person_update,
    persons_merge,
)

PAGE_SIZE = 50
WRITER_ROLES = (Role.VILLAGE_CLERK, Role.TOWNSHIP_CLERK, Role.COUNTY_ADMIN)


def may_write(user) -> bool:
    return user.is_authenticated and user.has_role(*WRITER_ROLES)


def writer_required(view):
    """Entering and correcting records is for clerks and county admins; other roles only read (403)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not may_write(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _person_or_404(request, pk: int) -> Person:
    try:
        return selectors.person_get_visible(user=request.user, pk=pk)
    except Person.DoesNotExist:
        raise Http404 from None


def _area_names(*codes: str) -> dict[str, str]:
    return area_labels(codes)


def _form_page(request, form, *, title: str, person: Person | None = None, submit: str = "保存", **extra):
    context = {"form": form, "title": title, "person": person, "submit_label": submit, **extra}
    return render(request, "registry/event_form.html", context)


# --- search ----------------------------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request")
@cached_page("registry", "areas")
def person_search(request):
    """人口查询. The query is POSTed (an ID number must never sit in a URL or an access log); links to a
    person carry only its pk, and result pages are fetched by POSTing the search box's value again."""
    q = request.POST.get("q", "").strip() if request.method == "POST" else ""
    page = None
    if q:
        persons = selectors.persons_visible_to(user=request.user, q=q)
        page = Paginator(persons, PAGE_SIZE).get_page(request.POST.get("page"))
    context = {"q": q, "page": page, "can_write": may_write(request.user)}
    if request.htmx:
        return render(request, "registry/_person_results.html", context)
    return render(request, "registry/person_search.html", context)


# --- person ----------------------------------------------------------------------------------------


@login_required
def person_detail(request, pk: int):
    kept = selectors.person_merged_target(user=request.user, pk=pk)
    if kept is not None:  # an old link to a record retired by a merge leads to the kept one
        messages.info(request, "该记录已与另一条记录合并，以下为保留的记录")
        return redirect("registry:person_detail", pk=kept)
    person = _person_or_404(request, pk)
    full = request.user.may_see_full_ids
    can_write = may_write(request.user)
    timeline = selectors.person_timeline(person=person, user=request.user)
    for e in timeline:
        # 更正/作废 are offered on the events of the clerk's own area that are still in force.
        e.can_correct = can_write and bool(e.slug) and not e.is_voided and in_scope(request.user, e.obj.village_id)
    births = list(
        (person.births_given if person.sex == Sex.FEMALE else person.births_fathered)
        .select_related("child", "mother", "father", "permit", "village__parent")
        .order_by("date", "id")
    )
    for b in births:
        other = b.father if person.sex == Sex.FEMALE else b.mother
        b.other_parent_shown = selectors.party_shown(person=other, user=request.user) if other else ""
        b.child_in_area = in_scope(request.user, b.child.village_id)
        b.child_shown = selectors.party_shown(person=b.child, user=request.user)
        b.can_correct = can_write and in_scope(request.user, b.village_id)
    context = {
        "person": person,
        "id_number_shown": (person.id_number if full else person.masked_id_number) or "",
        "phone_shown": person.phone if full else mask_phone(person.phone),
        "timeline": timeline,
        "births": births,
        "area_names": _area_names(person.hukou_place_code),
        "own_birth": person.births_as_child.select_related("village__parent").first(),
        "open_uses": [
            e.obj
            for e in timeline
            if isinstance(e.obj, ContraceptiveUse) and e.obj.end_date is None and not e.is_voided
        ],
        "entries": _person_history(person, timeline, request.user),
        "can_write": can_write,
    }
    return render(request, "registry/person_detail.html", context)


def _person_history(person: Person, timeline, user) -> list:
    """The person's own changes and those of the events on the page (corrections and voids with their
    reasons), newest first: one query per kind of record."""
    entries = history_for(obj=person, user=user)
    by_model: dict[type, list] = {}
    for e in timeline:
        if e.slug:
            by_model.setdefault(type(e.obj), []).append(e.obj)
    for objs in by_model.values():
        label = objs[0]._meta.verbose_name
        entries += history_for_objects(objs=objs, user=user, subject=lambda o, label=label: f"{label}：{o}")
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def _person_data(cleaned: dict, household: Household | None) -> PersonData:
    return PersonData(
        name=cleaned["name"],
        sex=cleaned["sex"],
        birth_date=cleaned["birth_date"],
        hukou_type=cleaned["hukou_type"],
        village=cleaned["village"],
        id_number=cleaned["id_number"] or None,
        ethnicity=cleaned["ethnicity"],
        employment_type=cleaned["employment_type"],
        household=household,
        relation_to_head=cleaned["relation_to_head"],
        marital_status=cleaned["marital_status"],
        phone=cleaned["phone"],
        hukou_place_code=cleaned.get("hukou_place_code") or "",
    )


def _household(cleaned: dict, user) -> Household | None:
    """The household the form found, or the new one (新立户) it asks for, in the person's village."""
    if cleaned["household"] is not None or not cleaned["new_household"]:
        return cleaned["household"]
    return household_create(number=cleaned["household_number"], village=cleaned["village"], by=user)


@writer_required
@require_http_methods(["GET", "POST"])
def person_create_view(request):
    form = PersonForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_valid():
        try:
            with transaction.atomic():
                household = _household(form.cleaned_data, request.user)
                person = person_create(data=_person_data(form.cleaned_data, household), by=request.user)
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已新增人员：{person.name}")
            return redirect(person)
    return render(request, "registry/person_form.html", {"form": form, "title": "新增人员"})


@writer_required
@require_http_methods(["GET", "POST"])
def person_edit(request, pk: int):
    """Corrections with the version check: a save based on a stale page is refused, the input kept."""
    person = _person_or_404(request, pk)
    if request.method == "POST":
        form = PersonEditForm(request.POST, user=request.user)
    else:
        form = PersonEditForm(user=request.user, initial=PersonForm.initial_for(person))
    if form.is_valid():
        try:
            with transaction.atomic():
                household = _household(form.cleaned_data, request.user)
                person = person_update(
                    person=person,
                    version=form.cleaned_data["version"],
                    data=_person_data(form.cleaned_data, household),
                    by=request.user,
                )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已保存{person.name}的信息")
            return redirect(person)
    return render(request, "registry/person_form.html", {"form": form, "title": "修改人员信息", "person": person})


# --- events ----------------------------------------------------------------------------------------


@writer_required
@require_http_methods(["GET", "POST"])
def birth_create(request, pk: int):
    """出生登记 for a mother: the child is created, and the order and policy status are computed."""
    mother = _person_or_404(request, pk)
    form = BirthForm(request.POST if request.method == "POST" else None, user=request.user, mother=mother)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # an external father's record is created only with the birth
                father = None
                if data["father_identity"] is not None:
                    father = party_resolve(
                        identity=data["father_identity"],
                        sex=Sex.MALE,
                        village=mother.village,
                        by=request.user,
                        field="father",
                    )
                birth = birth_record(
                    mother=mother,
                    on=data["date"],
                    village=data["village"],
                    by=request.user,
                    child_data=ChildData(
                        name=data["child_name"], sex=data["child_sex"], id_number=data["child_id_number"] or None
                    ),
                    father=father,
                    permit=data["permit"],
                    birth_order_given=data["birth_order_given"],
                    policy_status_given=data["policy_status"] or None,
                    override_reason=data["override_reason"],
                    confirmed=form.confirmed,
                )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(
                request,
                f"已登记出生：{birth.child.name}，第{birth.birth_order}孩，{birth.get_policy_status_display()}",
            )
            if birth.has_order_warning:
                messages.warning(
                    request,
                    f"填报孩次（第{birth.birth_order_given}孩）与按登记记录计算的孩次（第{birth.birth_order}孩）"
                    "不一致，请核对该母亲的生育记录",
                )
            return redirect(mother)
    return _form_page(request, form, title="出生登记", person=mother)


@writer_required
@require_http_methods(["GET", "POST"])
def death_create(request, pk: int):
    person = _person_or_404(request, pk)
    form = DeathForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_valid():
        try:
            death_record(person=person, on=form.cleaned_data["date"], by=request.user, confirmed=form.confirmed)
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已登记{person.name}死亡")
            return redirect(person)
    return _form_page(request, form, title="死亡登记", person=person)


@writer_required
@require_http_methods(["GET", "POST"])
def marriage_create(request, pk: int):
    person = _person_or_404(request, pk)
    form = MarriageForm(request.POST if request.method == "POST" else None, user=request.user, person=person)
    if form.is_valid():
        other_sex, other_field = (Sex.MALE, "husband") if person.sex == Sex.FEMALE else (Sex.FEMALE, "wife")
        try:
            with transaction.atomic():  # an external spouse's record is created only with the marriage
                other = party_resolve(
                    identity=form.cleaned_data["other_identity"],
                    sex=other_sex,
                    village=person.village,
                    by=request.user,
                    field=other_field,
                )
                wife, husband = (person, other) if person.sex == Sex.FEMALE else (other, person)
                marriage = marriage_record(
                    wife=wife,
                    husband=husband,
                    kind=form.cleaned_data["kind"],
                    on=form.cleaned_data["date"],
                    by=request.user,
                    confirmed=form.confirmed,
                )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            # The other party's name is the one the clerk typed; nothing else of theirs is shown.
            messages.success(request, f"已登记{marriage.get_kind_display()}：{wife.name}与{husband.name}")
            return redirect(person)
    return _form_page(request, form, title="婚姻登记", person=person)


@writer_required
@require_http_methods(["GET", "POST"])
def contraception_create(request, pk: int):
    person = _person_or_404(request, pk)
    form = ContraceptionForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            use = contraception_record(
                person=person,
                method=data["method"],
                start=data["start_date"],
                end=data["end_date"],
                by=request.user,
                confirmed=form.confirmed,
            )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已登记避孕措施：{use.get_method_display()}")
            return redirect(person)
    return _form_page(request, form, title="避孕措施登记", person=person)


@writer_required
@require_http_methods(["GET", "POST"])
def contraception_end_view(request, pk: int):
    """Ends an open contraceptive use (a use already ended is not offered: 404)."""
    try:
        use = selectors.contraception_visible_to(user=request.user).get(pk=pk, end_date__isnull=True)
    except ContraceptiveUse.DoesNotExist:
        raise Http404 from None
    form = ContraceptionEndForm(
        request.POST if request.method == "POST" else None, user=request.user, initial={"end_date": _today()}
    )
    if form.is_valid():
        try:
            contraception_end(use=use, end=form.cleaned_data["end_date"], by=request.user)
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已结束避孕措施：{use.get_method_display()}")
            return redirect(use.person)
    title = f"结束避孕措施：{use.get_method_display()}（{use.start_date:%Y-%m-%d}起）"
    return _form_page(request, form, title=title, person=use.person)


@writer_required
@require_http_methods(["GET", "POST"])
def move_create(request, pk: int):
    person = _person_or_404(request, pk)
    form = MoveForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        initial={"origin": person.village_id},
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            move = move_record(
                person=person,
                kind=data["kind"],
                on=data["date"],
                origin_code=data["origin_code"],
                destination_code=data["destination_code"],
                certificate_number=data["certificate_number"],
                by=request.user,
                confirmed=form.confirmed,
            )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已登记{move.get_kind_display()}")
            return redirect(person)
    return _form_page(request, form, title="迁移流动登记", person=person)


@writer_required
@require_http_methods(["GET", "POST"])
def birth_policy_override_view(request, pk: int):
    """调整政策属性: staff set a birth's policy status against the rules, with a reason (audited)."""
    try:
        birth = selectors.births_visible_to(user=request.user).get(pk=pk)
    except Birth.DoesNotExist:
        raise Http404 from None
    form = PolicyOverrideForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        initial={"policy_status": birth.policy_status, "reason": birth.policy_override_reason},
    )
    if form.is_valid():
        try:
            birth = birth_policy_override(
                birth=birth,
                status=form.cleaned_data["policy_status"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已将{birth.child.name}的政策属性调整为{birth.get_policy_status_display()}")
            return redirect(birth.mother)
    title = f"调整政策属性：{birth.child.name}（{birth.date:%Y-%m-%d}出生，第{birth.birth_order}孩）"
    return _form_page(request, form, title=title, person=birth.mother, birth=birth)


# --- household -------------------------------------------------------------------------------------


def _export_area(request, value: str) -> str:
    from apps.core.areacodes import is_valid_code

    if value and not is_valid_code(value):
        raise Http404
    return value


@login_required
@require_http_methods(["GET"])
def person_export(request):
    """人口花名册 (Excel, or CSV with ``?format=csv``) of the user's area, or of one village or township under
    it (``?area=CODE``), with ID numbers and phones masked for every role; streamed as it is read."""
    from apps.registry.exports import persons_export

    area = _export_area(request, request.GET.get("area", ""))
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise Http404
    try:
        download = persons_export(user=request.user, area_code=area, fmt=fmt)
    except RuleViolation as exc:  # too many rows for one sheet: said before the first byte
        messages.error(request, exc.message)
        return redirect("registry:person_search")
    return download.response()


@login_required
@require_http_methods(["GET", "POST"])
def person_export_full(request):
    """人口花名册 with full ID numbers and phones: only for a role that works with them, only with a stated
    purpose (用途), and logged. The form is POSTed, so the purpose never sits in a URL."""
    from apps.core.forms import FullIdsExportForm
    from apps.registry.exports import persons_export

    if not request.user.may_see_full_ids:
        raise Http404
    form = FullIdsExportForm(
        request.POST if request.method == "POST" else None, initial={"area": request.GET.get("area", "")}
    )
    if form.is_valid():
        area = _export_area(request, form.cleaned_data["area"])
        try:
            download = persons_export(user=request.user, area_code=area, purpose=form.cleaned_data["purpose"])
        except RuleViolation as exc:
            form.add_error("purpose" if exc.field == "purpose" else None, exc.message)
        else:
            return download.response()
    return _form_page(request, form, title="导出花名册（含完整身份证号）", submit="导出")


@login_required
def household_detail(request, pk: int):
    try:
        household = selectors.household_get_visible(user=request.user, pk=pk)
    except Household.DoesNotExist:
        raise Http404 from None
    # Members who live outside the user's area stay out of sight, like every other record there.
    members = selectors.household_members(household=household).visible_to(request.user).select_related("village")
    return render(request, "registry/household_detail.html", {"household": household, "members": members})


# --- data quality ----------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@login_required
@cached_page("registry", "areas")
def quality(request):
    """数据质量: the seeds' recurring registry errors, each list for the user's area, paginated, with counts.
    The lists are the findings of the last refresh (``apps.registry.quality``), not recomputed per view; a
    new installation's first view makes the first refresh."""
    form = QualityForm(request.GET)
    older_than_days = (form.cleaned_data["older_than_days"] if form.is_valid() else None) or 365
    user, today = request.user, _today()
    if selectors.quality_refreshed() is None:
        quality_findings_refresh()
    refreshed = selectors.quality_refreshed()
    titles = dict(QualityList.choices)
    titles[QualityList.STALE_FLOATING] = f"流动人口信息超过{older_than_days}天未更新"
    sections, codes = [], []
    for key in QualityList.values:
        queryset = selectors.quality_findings(user=user, key=key, older_than_days=older_than_days, today=today)
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(f"{key}_page"))
        for row in page.object_list:
            if key == "mother_age":
                row.mother_age_years = _age_on(row.mother.birth_date, row.date)
            elif key == "stale_floating":
                row.days_since = (today - row.date).days
                codes += [row.origin_code, row.destination_code]
            elif key == "married_out":
                codes.append(row.husband.village_id)
        sections.append({"key": key, "title": titles[key], "page": page, "page_param": f"{key}_page"})
    context = {
        "form": form,
        "older_than_days": older_than_days,
        "sections": sections,
        "area_names": area_labels(codes),
        "can_write": may_write(user),
        "refreshed": refreshed,
        "refresh_due": quality_refresh_due(),
    }
    return render(request, "registry/quality.html", context)


# --- merging duplicate persons ---------------------------------------------------------------------


def _merge_side(person: Person, *, full: bool) -> dict:
    """One record of the side-by-side confirmation, masked per role, with how many events hang on it."""
    return {
        "person": person,
        "id_number_shown": (person.id_number if full else person.masked_id_number) or "（无）",
        "phone_shown": (person.phone if full else mask_phone(person.phone)) or "—",
        "counts": selectors.person_event_counts(person=person),
    }


# --- corrections and voids -------------------------------------------------------------------------


@dataclass(frozen=True)
class EventKind:
    """How the pages correct and void one kind of event: its selector, form, services and whose page it is on."""

    label: str
    selector: Callable
    form: type
    correct: Callable  # (request, obj, cleaned) -> obj
    void: Callable
    person: Callable  # obj -> the person whose page shows it
    describe: Callable  # obj -> a short description for titles and messages


def _birth_correct(request, birth, d):
    return services.birth_correct(
        birth=birth,
        version=d["version"],
        on=d["date"],
        sex=d["sex"],
        village=d["village"],
        father=d["father_id_number"],
        permit=d["permit"],
        entered_on=d["entered_on"],
        reason=d["reason"],
        by=request.user,
        confirmed=d.get("confirmed", False),
    )


def _marriage_correct(request, marriage, d):
    return services.marriage_correct(
        marriage=marriage,
        version=d["version"],
        kind=d["kind"],
        on=d["date"],
        reason=d["reason"],
        by=request.user,
        confirmed=d.get("confirmed", False),
    )


def _move_correct(request, move, d):
    return services.move_correct(
        move=move,
        version=d["version"],
        kind=d["kind"],
        on=d["date"],
        origin_code=d["origin_code"],
        destination_code=d["destination_code"],
        certificate_number=d["certificate_number"],
        reason=d["reason"],
        by=request.user,
        confirmed=d.get("confirmed", False),
    )


def _death_correct(request, death, d):
    return services.death_correct(
        death=death,
        version=d["version"],
        on=d["date"],
        reason=d["reason"],
        by=request.user,
        confirmed=d.get("confirmed", False),
    )


def _contraception_correct(request, use, d):
    return services.contraception_correct(
        use=use,
        version=d["version"],
        method=d["method"],
        start=d["start_date"],
        end=d["end_date"],
        reason=d["reason"],
        by=request.user,
        confirmed=d.get("confirmed", False),
    )


def _permit_correct(request, permit, d):
    return services.permit_correct(
        permit=permit,
        version=d["version"],
        number=d["number"],
        kind=d["kind"],
        child_order=d["child_order"],
        issued_on=d["issued_on"],
        valid_until=d["valid_until"],
        issued_by=d["issued_by"],
        reason=d["reason"],
        by=request.user,
        confirmed=d.get("confirmed", False),
    )


EVENT_KINDS = {
    "births": EventKind(
        "出生登记",
        selectors.births_visible_to,
        BirthCorrectionForm,
        _birth_correct,
        lambda by, obj, reason: services.birth_void(birth=obj, reason=reason, by=by),
        lambda b: b.mother,
        lambda b: f"{b.child.name}（{b.date:%Y-%m-%d}出生）",
    ),
    "marriages": EventKind(
        "婚姻登记",
        selectors.marriages_visible_to,
        MarriageCorrectionForm,
        _marriage_correct,
        lambda by, obj, reason: services.marriage_void(marriage=obj, reason=reason, by=by),
        lambda m: m.wife,
        lambda m: f"{m.wife.name}与{m.husband.name}{m.get_kind_display()}（{m.date:%Y-%m-%d}）",
    ),
    "moves": EventKind(
        "迁移流动",
        selectors.moves_visible_to,
        MoveCorrectionForm,
        _move_correct,
        lambda by, obj, reason: services.move_void(move=obj, reason=reason, by=by),
        lambda m: m.person,
        lambda m: f"{m.person.name}{m.get_kind_display()}（{m.date:%Y-%m-%d}）",
    ),
    "deaths": EventKind(
        "死亡登记",
        selectors.deaths_visible_to,
        DeathCorrectionForm,
        _death_correct,
        lambda by, obj, reason: services.death_void(death=obj, reason=reason, by=by),
        lambda d: d.person,
        lambda d: f"{d.person.name}死亡（{d.date:%Y-%m-%d}）",
    ),
    "contraception": EventKind(
        "避孕措施",
        selectors.contraception_visible_to,
        ContraceptionCorrectionForm,
        _contraception_correct,
        lambda by, obj, reason: services.contraception_void(use=obj, reason=reason, by=by),
        lambda c: c.person,
        lambda c: f"{c.person.name} {c.get_method_display()}（{c.start_date:%Y-%m-%d}起）",
    ),
    "permits": EventKind(
        "生育证件",
        selectors.permits_visible_to,
        PermitCorrectionForm,
        _permit_correct,
        lambda by, obj, reason: services.permit_void(permit=obj, reason=reason, by=by),
        lambda p: p.wife,
        lambda p: f"{p.wife.name} {p.get_kind_display()} {p.number}",
    ),
}


def _event_or_404(request, kind: str, pk: int):
    """An event in force in the user's area (a voided one, or one outside the area, is a 404)."""
    spec = EVENT_KINDS.get(kind)
    if spec is None:
        raise Http404
    obj = spec.selector(user=request.user).filter(pk=pk).first()
    if obj is None:
        raise Http404("未找到该记录，或不在您的管辖范围内")
    return spec, obj


def _back_to_person(request, person: Person):
    """After a correction the clerk lands where the record is visible: the person's page, or, when the person
    is no longer in the clerk's area (moved out), the search page with a message saying so."""
    if selectors.persons_visible_to(user=request.user).filter(pk=person.pk).exists():
        return redirect("registry:person_detail", pk=person.pk)
    messages.info(request, f"{person.name}现已不在您的管辖范围内，其页面不再显示；如有误可请迁入地核对")
    return redirect("registry:person_search")


@writer_required
@require_http_methods(["GET", "POST"])
def person_merge(request, pk: int, other: int):
    """合并重复人员 (from the data-quality list): both records side by side, then the merge with a reason."""
    first, second = _person_or_404(request, pk), _person_or_404(request, other)
    if first.pk == second.pk:
        raise Http404
    form = PersonMergeForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        first=first,
        second=second,
        initial={"keep": str(first.pk), "id_number_record": str(first.pk)},
    )
    if form.is_valid():
        data = form.cleaned_data
        keep, retire = (first, second) if data["keep"] == str(first.pk) else (second, first)
        try:
            keep = persons_merge(
                keep=keep,
                retire=retire,
                id_number_from="keep" if data["id_number_record"] == str(keep.pk) else "retire",
                reason=data["reason"],
                by=request.user,
            )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已合并重复人员：保留{keep.name}的记录，另一条记录已注销")
            return redirect(keep)
    full = request.user.may_see_full_ids
    sides = [_merge_side(first, full=full), _merge_side(second, full=full)]
    area_names = area_labels([first.hukou_place_code, second.hukou_place_code])
    return render(
        request,
        "registry/person_merge.html",
        {"form": form, "sides": sides, "area_names": area_names, "title": "合并重复人员"},
    )


def event_correct(request, kind: str, pk: int):
    """更正 an event: its fields, a reason and the version read with it (a stale page is refused)."""
    spec, obj = _event_or_404(request, kind, pk)
    extra = {"birth": obj} if kind == "births" else {}
    if request.method == "POST":
        form = spec.form(request.POST, user=request.user, **extra)
    else:
        form = spec.form(user=request.user, initial=spec.form.initial_for(obj), **extra)
    person = spec.person(obj)
    if form.is_valid():
        try:
            fixed = spec.correct(request, obj, form.cleaned_data)
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            message = f"已更正{spec.label}：{spec.describe(fixed)}"
            if kind == "births":
                message += f"，第{fixed.birth_order}孩，{fixed.get_policy_status_display()}"
            messages.success(request, message)
            return _back_to_person(request, Person.objects.get(pk=spec.person(fixed).pk))
    title = f"更正{spec.label}：{spec.describe(obj)}"
    return _form_page(request, form, title=title, person=person, submit="保存更正")


@writer_required
@require_http_methods(["GET", "POST"])
def event_void(request, kind: str, pk: int):
    """作废 an event entered in error: it stays, struck through, with who, when and why."""
    spec, obj = _event_or_404(request, kind, pk)
    form = VoidForm(request.POST if request.method == "POST" else None, user=request.user)
    person = spec.person(obj)
    if form.is_valid():
        try:
            spec.void(request.user, obj, form.cleaned_data["reason"])
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已作废{spec.label}：{spec.describe(obj)}")
            return _back_to_person(request, Person.objects.get(pk=person.pk))
    title = f"作废{spec.label}：{spec.describe(obj)}"
    return _form_page(request, form, title=title, person=person, submit="确认作废", danger=True)
