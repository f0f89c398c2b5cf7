"""The role matrix (DESIGN §4): which roles read and which roles write each part's records, in one place.

Scope (``apps.core.scoping``) answers *where* a user may look; this matrix answers *what* a role may look at.
Both hold everywhere:

- the selectors of each app return ``none()`` to a role that may not read the part (``readable``);
- every page is checked before its view runs (``RoleMatrixMiddleware``) and every API viewset in its
  ``initial`` (``AreaScopedViewSetMixin``): a role that may not read a part gets **403** ("您的角色不能查看…") on
  every page and API operation of it, whatever the object. A record of a part the role may read but outside
  the user's area stays a **404** (the area scope), so neither answer reveals whether a record exists;
- the main menu (``apps.core.navigation``) offers an entry only to the roles that may read its part;
- ``tests/core/test_role_matrix.py`` walks every URL pattern and every API operation for every role.

Writes keep their finer checks in the services (who may approve, who may refund); ``WRITE`` below is the
outer bound those checks stay within. A superuser reads and writes everything; a system job (no user) too.
The matrix lives in ``core`` (below ``accounts``) so that core's menu, middleware and API base can read it;
role names are the values of ``apps.accounts.models.Role`` (checked by a test).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from apps.accounts.models import User

VILLAGE_CLERK = "village_clerk"
TOWNSHIP_CLERK = "township_clerk"
FEE_OFFICER = "fee_officer"
SUBSIDY_REVIEWER = "subsidy_reviewer"
SUBSIDY_APPROVER = "subsidy_approver"
ASSESSOR = "assessor"
COUNTY_VIEWER = "county_viewer"  # bound to a township: a township leader (乡镇领导)
COUNTY_ADMIN = "county_admin"
TOWNSHIP_ADMIN = "township_admin"  # 乡镇管理员: the user accounts of its own township, nothing else

ALL_ROLES = frozenset(
    {
        TOWNSHIP_ADMIN,
        VILLAGE_CLERK,
        TOWNSHIP_CLERK,
        FEE_OFFICER,
        SUBSIDY_REVIEWER,
        SUBSIDY_APPROVER,
        ASSESSOR,
        COUNTY_VIEWER,
        COUNTY_ADMIN,
    }
)
CLERKS = frozenset({VILLAGE_CLERK, TOWNSHIP_CLERK})
SUBSIDY_STAFF = frozenset({SUBSIDY_REVIEWER, SUBSIDY_APPROVER})
USER_ADMINS = frozenset({COUNTY_ADMIN, TOWNSHIP_ADMIN})

PUBLIC = "public"  # the sign-in page, the health check: no role needed (not even a signed-in user)

# part → roles that read it. A part is an app's records, or a part of them with other readers.
READ: dict[str, frozenset[str]] = {
    "home": ALL_ROLES,  # the start page (accounts)
    "areas": ALL_ROLES,  # the division tree: names and codes, no personal data
    "api_docs": ALL_ROLES,  # the API's schema and its documentation page
    # Persons and their events. Fee officers and subsidy staff read them to check a birth or a family;
    # assessors score townships by indicators and never need a person.
    "registry": CLERKS | {FEE_OFFICER} | SUBSIDY_STAFF | {COUNTY_VIEWER, COUNTY_ADMIN},
    # Full resident ID numbers and phones (detail pages, the API's single records, the purposed export): the
    # roles whose work needs them (entering records, assessing fees, paying people); others see them masked.
    "registry.full_ids": CLERKS | {FEE_OFFICER} | SUBSIDY_STAFF | {COUNTY_ADMIN},
    "imports": frozenset({TOWNSHIP_CLERK, COUNTY_ADMIN}),
    # Aggregates only (rates by area): no person appears.
    "indicators": frozenset({ASSESSOR, COUNTY_VIEWER, COUNTY_ADMIN}),
    # 报表上报: a township's leader submits its figures, the county admin approves or returns them; the late
    # changes listed with a submission name the records' kinds and authors (values only to registry readers).
    "indicators.submissions": frozenset({ASSESSOR, COUNTY_VIEWER, COUNTY_ADMIN}),
    # 社会抚养费: cases, 决定书, payments and 票据. Subsidy staff and clerks never read them.
    "fees": frozenset({FEE_OFFICER, COUNTY_VIEWER, COUNTY_ADMIN}),
    "fees.terminate": frozenset({COUNTY_ADMIN}),  # the bulk termination after the fee's end
    # 奖扶: programmes, rosters and their entries, 公示 notices, bank accounts (entered by the clerks).
    # Fee officers never read them.
    "subsidies": CLERKS | SUBSIDY_STAFF | {COUNTY_VIEWER, COUNTY_ADMIN},
    # 发放批次 and their payments: those who pay, and the clerks, who follow up their own village's failed
    # payments (a village clerk sees the township's batches but only the own village's money).
    "subsidies.batches": CLERKS | SUBSIDY_STAFF | {COUNTY_ADMIN},
    # 代发文件: the bank file with every full account number, only for those who pay.
    "subsidies.bankfiles": SUBSIDY_STAFF | {COUNTY_ADMIN},
    # 目标考核: the township sees its own result (its clerk and its leader).
    "scoring": frozenset({ASSESSOR, COUNTY_VIEWER, COUNTY_ADMIN, TOWNSHIP_CLERK}),
    # 考核年度 (open the year, publish a scheme, finalise a unit) and 目标管理责任书 (each unit's targets): the
    # county side of scoring; a township leader reads its own unit's contract.
    "scoring.year": frozenset({ASSESSOR, COUNTY_VIEWER, COUNTY_ADMIN}),
    "scoring.contracts": frozenset({ASSESSOR, COUNTY_VIEWER, COUNTY_ADMIN}),
    # 部门数据比对: hospital and police birth lists, their matches, worklists and the capture–recapture estimate.
    "reconciliation": frozenset({TOWNSHIP_CLERK, COUNTY_VIEWER, COUNTY_ADMIN}),
    # User accounts (/accounts/users/): the county admin for the county, a township admin for its township.
    "users": USER_ADMINS,
    # The admin site (the rule tables of ``CONFIG_MODELS``). Django's own permissions apply inside it: those of
    # the role's group (``role_permissions``).
    "admin": frozenset({COUNTY_ADMIN}),
}

# part → roles that may write it (the services hold the finer rules within this bound).
WRITE: dict[str, frozenset[str]] = {
    "home": frozenset(),
    "areas": frozenset({COUNTY_ADMIN}),
    "api_docs": frozenset(),
    "registry": CLERKS | {COUNTY_ADMIN},
    "registry.full_ids": frozenset(),
    "imports": frozenset({TOWNSHIP_CLERK, COUNTY_ADMIN}),
    "indicators": frozenset({COUNTY_ADMIN}),  # recompute a period
    "indicators.submissions": frozenset({COUNTY_VIEWER, COUNTY_ADMIN}),  # submit (township), approve (county)
    "fees": frozenset({FEE_OFFICER, COUNTY_ADMIN}),
    "fees.terminate": frozenset({COUNTY_ADMIN}),
    "subsidies": CLERKS | SUBSIDY_STAFF | {COUNTY_ADMIN},
    "subsidies.batches": SUBSIDY_STAFF | {COUNTY_ADMIN},  # create a batch, import the bank's return file
    "subsidies.bankfiles": frozenset(),
    # Assessors score; the unit itself (its clerk, its leader) claims bonuses and deductions.
    "scoring": frozenset({ASSESSOR, COUNTY_ADMIN, TOWNSHIP_CLERK, COUNTY_VIEWER}),
    # Assessors and the county admin run the year (the services: only the admin publishes a scheme).
    "scoring.year": frozenset({ASSESSOR, COUNTY_ADMIN}),
    # The county admin edits the contracts' targets; assessors read them.
    "scoring.contracts": frozenset({COUNTY_ADMIN}),
    "reconciliation": frozenset({TOWNSHIP_CLERK, COUNTY_ADMIN}),  # review an ambiguous match, match again
    "users": USER_ADMINS,
    "admin": frozenset({COUNTY_ADMIN}),
}

# Pages: URL namespace (or "namespace:url_name" for a page of another part) → part.
PAGE_PARTS: dict[str, str] = {
    "accounts": "home",
    "accounts:login": PUBLIC,
    "accounts:logout": PUBLIC,
    "accounts:user_list": "users",
    "accounts:user_create": "users",
    "accounts:user_edit": "users",
    "accounts:user_password_reset": "users",
    "accounts:user_set_active": "users",
    "accounts:user_unlock": "users",
    "healthz": PUBLIC,
    "api-token": PUBLIC,
    "api-root": "api_docs",
    "api-schema": "api_docs",
    "api-docs": "api_docs",
    "areas": "areas",
    "registry": "registry",
    "registry:person_export_full": "registry.full_ids",
    "imports": "imports",
    "indicators": "indicators",
    "indicators:submission_list": "indicators.submissions",
    "indicators:submission_detail": "indicators.submissions",
    "indicators:submission_create": "indicators.submissions",
    "indicators:submission_decide": "indicators.submissions",
    "fees": "fees",
    "fees:terminate": "fees.terminate",
    "subsidies": "subsidies",
    "subsidies:batch_create": "subsidies.batches",
    "subsidies:batch_list": "subsidies.batches",
    "subsidies:batch_detail": "subsidies.batches",
    "subsidies:batch_export": "subsidies.bankfiles",
    "subsidies:batch_return": "subsidies.batches",
    "scoring": "scoring",
    "scoring:year": "scoring.year",
    "scoring:year_open": "scoring.year",
    "scoring:scheme_publish": "scoring.year",
    "scoring:assessment_finalise": "scoring.year",
    "scoring:contracts": "scoring.contracts",
    "scoring:sample_check_list": "scoring.year",  # 入户抽查: the county's side of the assessment
    "scoring:sample_check_draw": "scoring.year",
    "scoring:sample_check_detail": "scoring.year",
    "scoring:sample_check_print": "scoring.year",
    "scoring:sample_finding_save": "scoring.year",
    "scoring:sample_check_close": "scoring.year",
    "scoring:contract_edit": "scoring.contracts",
    "reconciliation": "reconciliation",
    "admin": "admin",
    "core:worklist_open": "home",  # the start page's links (each leads to a page with its own check)
    # core:history takes the part of the record it shows (``part_of_model``).
}

# Pages that write (a form, or an action taken by POST): opened only by a role that writes their part, even
# by GET, since a form shows the record it changes.
WRITE_PAGES: frozenset[str] = frozenset(
    {
        "registry:person_create",
        "registry:person_edit",
        "registry:birth_create",
        "registry:death_create",
        "registry:marriage_create",
        "registry:contraception_create",
        "registry:move_create",
        "registry:contraception_end",
        "registry:birth_policy_override",
        "registry:event_correct",
        "registry:event_void",
        "registry:person_merge",
        "imports:create",
        "imports:commit",
        "imports:requeue",
        "indicators:recompute",
        "indicators:submission_create",
        "indicators:submission_decide",
        "fees:case_open",
        "fees:case_decide",
        "fees:case_instalments",
        "fees:payment_create",
        "fees:refund_create",
        "fees:case_transfer",
        "fees:case_refer",
        "fees:case_withdraw",
        "fees:payment_reverse",
        "fees:terminate",
        "subsidies:roster_generate",
        "subsidies:roster_action",
        "subsidies:roster_submit_on_behalf",
        "subsidies:roster_correct",
        "subsidies:objection_create",
        "subsidies:objection_decide",
        "subsidies:account_edit",
        "subsidies:batch_create",
        "subsidies:batch_return",
        "subsidies:childcare_create",
        "subsidies:childcare_close",
        "scoring:recompute",
        "scoring:item_score_save",
        "scoring:adjustment_claim",
        "scoring:adjustment_decide",
        "scoring:year_open",
        "scoring:scheme_publish",
        "scoring:assessment_finalise",
        "scoring:contract_edit",
        "scoring:sample_check_draw",
        "scoring:sample_finding_save",
        "scoring:sample_check_close",
        "reconciliation:review_decide",
        "reconciliation:rematch",
        "accounts:user_create",
        "accounts:user_edit",
        "accounts:user_password_reset",
        "accounts:user_set_active",
        "accounts:user_unlock",
    }
)

# Models whose part is not their app's (audit history, admin): "app_label.modelname" → part.
MODEL_PARTS: dict[str, str] = {
    "subsidies.paymentbatch": "subsidies.batches",
    "subsidies.payment": "subsidies.batches",
    "accounts.user": "users",
    "indicators.reportsubmission": "indicators.submissions",
}

# Who may give which roles to the users they manage (within their own area, ``core.scoping``). A township
# admin gives the township's own roles, never a county role.
TOWNSHIP_ROLES = frozenset({VILLAGE_CLERK, TOWNSHIP_CLERK, FEE_OFFICER, SUBSIDY_REVIEWER, TOWNSHIP_ADMIN})
GRANTS: dict[str, frozenset[str]] = {
    COUNTY_ADMIN: ALL_ROLES,
    TOWNSHIP_ADMIN: TOWNSHIP_ROLES,
}

# Configuration: the rule tables edited in the admin (every policy number is dated data, DESIGN §1), each with
# the part it configures and what the part's configurers may do there besides viewing. Roles become Django
# permissions from this and the matrix alone (``role_permissions``), through one group per role that
# ``accounts.services`` keeps in step with each user's roles.
EDIT = frozenset({"add", "change", "delete"})
CONFIG_MODELS: dict[str, tuple[str, frozenset[str]]] = {
    "areas.area": ("areas", frozenset({"add", "change"})),  # a division is renamed or added, never deleted
    "registry.birthpolicyrule": ("registry", EDIT),
    "registry.plausibilityrule": ("registry", EDIT),
    "fees.feestandard": ("fees", EDIT),
    "fees.feerate": ("fees", EDIT),
    "fees.feepolicy": ("fees", EDIT),
    "fees.feeend": ("fees", frozenset({"change"})),  # one row: the fee's end (停征), changed, never added
    "fees.legalbasis": ("fees", EDIT),
    "subsidies.programme": ("subsidies", EDIT),
    "subsidies.programmerule": ("subsidies", EDIT),
    "subsidies.disabilityrecord": ("subsidies", frozenset({"add"})),  # entered from the certificate, kept
    "indicators.alertthreshold": ("indicators", EDIT),
    "indicators.registrationdeadline": ("indicators", EDIT),
    "indicators.assessmentend": ("indicators", EDIT),
    "reconciliation.matchtolerance": ("reconciliation", EDIT),
    # Schemes are loaded by ``load_scheme`` and frozen once published: viewed here, with their items.
    "scoring.scheme": ("scoring", frozenset()),
    "scoring.schemeitem": ("scoring", frozenset()),
    "scoring.adjustmentrule": ("scoring", frozenset()),
    "scoring.resultrules": ("scoring", EDIT),
    "scoring.gradeband": ("scoring", EDIT),
    "scoring.contract": ("scoring", EDIT),
    "scoring.contracttarget": ("scoring", EDIT),
    "scoring.pairing": ("scoring", EDIT),
    "scoring.samplecheckpolicy": ("scoring", EDIT),
    # Accounts are managed in our own pages (/accounts/users/), through the services; the admin only lists them.
    "accounts.user": ("users", frozenset()),
}
# Those who configure: the roles that write the admin part. Viewing follows the part's readers.
CONFIGURERS = WRITE["admin"]

DENIED_MESSAGE = "您的角色不能查看此类记录"


def _roles(user: User | None) -> tuple[bool, frozenset[str]]:
    """(unlimited, roles): a system job (no user) and a superuser are unlimited."""
    if user is None:
        return True, frozenset()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False, frozenset()
    if user.is_superuser:
        return True, frozenset()
    return False, frozenset(user.roles or ())


def may_read(user: User | None, part: str) -> bool:
    if part == PUBLIC:
        return True
    unlimited, roles = _roles(user)
    return unlimited or bool(roles & READ[part])


def may_write(user: User | None, part: str) -> bool:
    unlimited, roles = _roles(user)
    return unlimited or bool(roles & WRITE[part])


def readable(qs: QuerySet, user: User | None, part: str) -> QuerySet:
    """The selectors' guard: ``qs`` for a role that reads ``part``, ``qs.none()`` for any other."""
    return qs if may_read(user, part) else qs.none()


def page_part(namespace: str, url_name: str) -> str | None:
    """The part a page belongs to (None: not in the matrix)."""
    full = f"{namespace}:{url_name}" if namespace else url_name
    return PAGE_PARTS.get(full) or (PAGE_PARTS.get(namespace) if namespace else None)


def page_allowed(user: User | None, namespace: str, url_name: str) -> bool:
    """Whether the user's roles may open the page: read its part, and write it too for a page that writes.
    A page missing from the matrix is open to a superuser only."""
    part = page_part(namespace, url_name)
    if part is None:
        return _roles(user)[0]
    if not may_read(user, part):
        return False
    full = f"{namespace}:{url_name}" if namespace else url_name
    return full not in WRITE_PAGES or may_write(user, part)


def role_permissions(role: str) -> frozenset[str]:
    """The Django permissions (``app_label.codename``) of a role's group: viewing every configuration model of
    a part the role reads, and changing it as ``CONFIG_MODELS`` allows where the role configures and writes
    the part. Nothing else: records change only through the services, checked against this matrix."""
    perms = set()
    for label, (part, actions) in CONFIG_MODELS.items():
        app_label, model = label.split(".")
        if role in READ[part]:
            perms.add(f"{app_label}.view_{model}")
        if role in CONFIGURERS and role in WRITE[part]:
            perms.update(f"{app_label}.{action}_{model}" for action in actions)
    return frozenset(perms)


def may_enter_admin(roles) -> bool:
    """Whether roles open the admin site (``is_staff``, kept in step with the roles by the services)."""
    return bool(set(roles) & READ["admin"])


def grantable_roles(user: User | None) -> frozenset[str]:
    """The roles a user may give to the accounts it manages."""
    unlimited, roles = _roles(user)
    if unlimited:
        return ALL_ROLES
    return frozenset().union(*(GRANTS.get(role, frozenset()) for role in roles))


def part_of_model(model) -> str:
    label = model._meta.label_lower
    return MODEL_PARTS.get(label) or model._meta.app_label


def api_part(viewset) -> str:
    """The part of an API viewset: its ``access_part``, else its app (``apps.<app>.api``)."""
    part = getattr(viewset, "access_part", None)
    if part:
        return part
    module = type(viewset).__module__ if not isinstance(viewset, type) else viewset.__module__
    return module.split(".")[1]
