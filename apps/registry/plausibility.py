# ruff: noqa: S608  -- statements assembled from this module's own fragments; values are parameters
"""Plausibility rules (合理性规则, DESIGN §5): one checker over a set of candidate events, for a form, the API
and an import alike (STYLE: one rule, one place).

The rules are rows of ``PlausibilityRule`` (dated, editable, seeded by migration ``plausibility_rules``); this
module holds no number of its own. Each kind of event has one function that evaluates every rule in force on
each candidate's date in ONE statement over a candidate relation, an SQL ``SELECT`` that yields the kind's
columns (``key`` names the candidate: the sheet's row number in an import, 1 for a single entry):

- ``births_findings``        key, mother_id, father_id, date, self_id
- ``marriages_findings``     key, wife_id, husband_id, kind, date, self_id
- ``moves_findings``         key, person_id, kind, date, origin_code, destination_code, self_id
- ``deaths_findings``        key, person_id, date, self_id
- ``contraception_findings`` key, person_id, date, self_id
- ``permits_findings``       key, wife_id, husband_id, date, self_id

``self_id`` is the registered event the candidate replaces (a correction, or an import row whose natural key
is registered), left out of every comparison; NULL for a new event. An import passes
``SELECT row_no AS key, ... FROM import_stage WHERE NOT rejected``; the single-entry wrappers
(``check_birth``, ``check_marriage``, ``check_move``, ``check_death``, ``check_contraception``,
``check_permit``) pass a one-row SELECT of parameters and return the findings, which ``confirm`` turns into
a ``RuleViolation`` (refused, or held until ``confirmed``) or into the confirmation text for the audit trail.

Messages name no person and no ID number: they say 母亲/女方/该人员 and the dates and numbers concerned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection

from apps.core.errors import RuleViolation
from apps.registry.models import PlausibilityAction, PlausibilityCode

NEEDS_CONFIRMATION = "needs_confirmation"
CONFIRM_LABEL = "我已核实，确认录入"


@dataclass(frozen=True)
class Finding:
    row: int  # the candidate's key (an import's row number; 1 for a single entry)
    rule_code: str
    action: str  # PlausibilityAction
    field: str  # the field of the entry it concerns, as the service names it (mother, date, destination_code…)
    message: str

    @property
    def refused(self) -> bool:
        return self.action == PlausibilityAction.REFUSE


def _in_force(code: str, on: str) -> str:
    """Join condition: the rule rows ``r`` of ``code`` in force on the date expression ``on``."""
    return f"r.code = '{code}' AND r.valid_from <= {on} AND (r.valid_to IS NULL OR {on} <= r.valid_to)"


def _age(born: str, on: str) -> str:
    return f"date_part('year', age({on}, {born}))::int"


# Every finding statement yields: key, code, action, field, n1, n2 (numbers), d (a date), t (a text).

# Person events ``pe`` (key, person_id, role, date, self_move_id, departure_applies, death_applies): an event
# after the person left the county (the latest earlier live move is one of the rule's ``move_kinds`` and leads
# outside the county's villages), or after the person's death (a father has ``father_grace_days``).
_PERSON_EVENTS = f"""
SELECT pe.key, r.code, r.action, pe.role, NULL::int, NULL::int, p.death_date, NULL::text
FROM pe JOIN registry_person p ON p.id = pe.person_id
JOIN registry_plausibilityrule r ON {_in_force("event_after_death", "pe.date")}
WHERE pe.death_applies AND p.death_date IS NOT NULL
  AND pe.date > p.death_date + CASE WHEN pe.role = 'father'
                                    THEN coalesce((r.parameters->>'father_grace_days')::int, 0) ELSE 0 END
UNION ALL
SELECT pe.key, r.code, r.action, pe.role, NULL, NULL, last.date, last.kind
FROM pe JOIN registry_plausibilityrule r ON {_in_force("event_after_departure", "pe.date")}
CROSS JOIN LATERAL (
    SELECT m.kind, m.date, m.destination_code FROM registry_move m
    WHERE m.person_id = pe.person_id AND m.voided_at IS NULL AND m.date < pe.date
      AND m.id IS DISTINCT FROM pe.self_move_id
    ORDER BY m.date DESC, m.id DESC LIMIT 1
) last
WHERE pe.departure_applies
  AND last.kind IN (SELECT jsonb_array_elements_text(coalesce(r.parameters->'move_kinds', '[]'::jsonb)))
  AND NOT EXISTS (SELECT 1 FROM areas_area a WHERE a.code = last.destination_code AND a.level = 'village')
"""

# Mother's age at the birth outside [min_age, max_age]; two births of one mother more than same_delivery_days
# (twins born either side of midnight) and less than min_days apart (her live births, and the other candidates:
# two rows of one sheet).
_BIRTHS = f"""
WITH c AS ({{candidates}}),
pe AS (
    SELECT key, mother_id AS person_id, 'mother' AS role, date, NULL::bigint AS self_move_id,
           true AS departure_applies, true AS death_applies FROM c
    UNION ALL
    SELECT key, father_id, 'father', date, NULL, false, true FROM c WHERE father_id IS NOT NULL
),
others AS (
    SELECT b.mother_id, b.date, NULL::int AS key FROM registry_birth b
    WHERE b.voided_at IS NULL AND b.mother_id IN (SELECT mother_id FROM c)
      AND b.id NOT IN (SELECT self_id FROM c WHERE self_id IS NOT NULL)
    UNION ALL
    SELECT mother_id, date, key FROM c
)
SELECT c.key, r.code, r.action, 'mother', a.years,
       CASE WHEN a.years < (r.parameters->>'min_age')::int THEN (r.parameters->>'min_age')::int
            ELSE (r.parameters->>'max_age')::int END,
       NULL::date, CASE WHEN a.years < (r.parameters->>'min_age')::int THEN 'low' ELSE 'high' END
FROM c JOIN registry_person m ON m.id = c.mother_id
JOIN registry_plausibilityrule r ON {_in_force("mother_age_at_birth", "c.date")}
CROSS JOIN LATERAL (SELECT {_age("m.birth_date", "c.date")} AS years) a
WHERE a.years < (r.parameters->>'min_age')::int OR a.years > (r.parameters->>'max_age')::int
UNION ALL
SELECT c.key, r.code, r.action, 'date', min(abs(o.date - c.date)), min((r.parameters->>'min_days')::int),
       NULL, NULL
FROM c JOIN registry_plausibilityrule r ON {_in_force("birth_spacing", "c.date")}
JOIN others o ON o.mother_id = c.mother_id AND o.key IS DISTINCT FROM c.key
WHERE abs(o.date - c.date) BETWEEN coalesce((r.parameters->>'same_delivery_days')::int, 0) + 1
                                AND (r.parameters->>'min_days')::int - 1
GROUP BY c.key, r.id
UNION ALL
{_PERSON_EVENTS}
"""

# A marriage under the legal age; while either party is married to someone else (their latest earlier
# marriage event, registered or an earlier row, is a marriage whose spouse was alive); of a couple already
# married to each other with no divorce between the two dates.
_MARRIAGES = f"""
WITH c AS ({{candidates}}),
pe AS (
    SELECT key, wife_id AS person_id, 'wife' AS role, date, NULL::bigint AS self_move_id,
           true AS departure_applies, true AS death_applies FROM c
    UNION ALL
    SELECT key, husband_id, 'husband', date, NULL, true, true FROM c
),
parties AS (SELECT wife_id AS id FROM c UNION SELECT husband_id FROM c),
ev AS (
    SELECT m.wife_id, m.husband_id, m.kind, m.date, m.id AS ord, NULL::int AS key FROM registry_marriage m
    WHERE m.voided_at IS NULL
      AND (m.wife_id IN (SELECT id FROM parties) OR m.husband_id IN (SELECT id FROM parties))
      AND m.id NOT IN (SELECT self_id FROM c WHERE self_id IS NOT NULL)
    UNION ALL
    SELECT wife_id, husband_id, kind, date, NULL, key FROM c
),
pev AS (
    SELECT wife_id AS person_id, husband_id AS spouse_id, kind, date, ord, key FROM ev
    UNION ALL
    SELECT husband_id, wife_id, kind, date, ord, key FROM ev
)
SELECT c.key, r.code, r.action, v.role, a.years, v.min_age, NULL::date, NULL::text
FROM c JOIN registry_plausibilityrule r ON {_in_force("marriage_age", "c.date")}
CROSS JOIN LATERAL (VALUES ('wife', c.wife_id, (r.parameters->>'min_age_female')::int),
                           ('husband', c.husband_id, (r.parameters->>'min_age_male')::int)) v(role, person_id, min_age)
JOIN registry_person p ON p.id = v.person_id
CROSS JOIN LATERAL (SELECT {_age("p.birth_date", "c.date")} AS years) a
WHERE c.kind = 'marriage' AND a.years < v.min_age
UNION ALL
SELECT l.key, r.code, r.action, l.role, NULL, NULL, l.date, NULL
FROM (
    -- each party's latest marriage event on or before the candidate's date (a join, not a per-row lookup)
    SELECT DISTINCT ON (c.key, v.role) c.key, c.date AS on_date, v.role, v.other_id, e.spouse_id, e.kind, e.date
    FROM c CROSS JOIN LATERAL (VALUES ('wife', c.wife_id, c.husband_id), ('husband', c.husband_id, c.wife_id))
        v(role, person_id, other_id)
    JOIN pev e ON e.person_id = v.person_id AND e.date <= c.date AND (e.key IS NULL OR e.key < c.key)
    WHERE c.kind = 'marriage'
    ORDER BY c.key, v.role, e.date DESC, e.key DESC NULLS LAST, e.ord DESC
) l
JOIN registry_plausibilityrule r ON {_in_force("marriage_while_married", "l.on_date")}
JOIN registry_person s ON s.id = l.spouse_id
WHERE l.kind = 'marriage' AND l.spouse_id <> l.other_id
  AND (s.death_date IS NULL OR s.death_date >= l.on_date)
UNION ALL
SELECT c.key, r.code, r.action, 'kind', NULL, NULL, min(e.date), NULL
FROM c JOIN registry_plausibilityrule r ON {_in_force("repeated_marriage_same_couple", "c.date")}
JOIN ev e ON e.wife_id = c.wife_id AND e.husband_id = c.husband_id AND e.kind = 'marriage'
         AND (e.key IS NULL OR e.key < c.key)
WHERE c.kind = 'marriage' AND NOT EXISTS (
    SELECT 1 FROM ev d WHERE d.wife_id = c.wife_id AND d.husband_id = c.husband_id AND d.kind = 'divorce'
      AND d.date BETWEEN least(e.date, c.date) AND greatest(e.date, c.date))
GROUP BY c.key, r.id
UNION ALL
{_PERSON_EVENTS}
"""

# Either end of a move that is neither a village of this county nor a well-formed code of another county:
# 12 digits, a county prefix (first 6 digits) that is none of the areas', a province code in range.
_MOVES = f"""
WITH c AS ({{candidates}}),
pe AS (
    SELECT key, person_id, 'person' AS role, date, self_id AS self_move_id,
           kind NOT IN ('move_in', 'float_in') AS departure_applies, true AS death_applies FROM c
),
county AS (SELECT DISTINCT left(code, 6) AS prefix FROM areas_area)
SELECT c.key, r.code, r.action, v.field, NULL::int, NULL::int, NULL::date, v.code
FROM c JOIN registry_plausibilityrule r ON {_in_force("destination_code", "c.date")}
CROSS JOIN LATERAL (VALUES ('origin_code', c.origin_code), ('destination_code', c.destination_code)) v(field, code)
WHERE NOT EXISTS (SELECT 1 FROM areas_area a WHERE a.code = v.code AND a.level = 'village')
  AND NOT CASE WHEN length(v.code) = 12 AND v.code ~ '^[0-9]+$' THEN
          left(v.code, 6) NOT IN (SELECT prefix FROM county)
          AND left(v.code, 2)::int BETWEEN coalesce((r.parameters->>'province_min')::int, 0)
                                       AND coalesce((r.parameters->>'province_max')::int, 99)
      ELSE false END
UNION ALL
{_PERSON_EVENTS}
"""

# Events of one person: after departure or death (a death itself is only checked for departure).
_ONE_PERSON = f"""
WITH c AS ({{candidates}}),
pe AS (
    SELECT key, person_id, 'person' AS role, date, NULL::bigint AS self_move_id,
           true AS departure_applies, {{death_applies}} AS death_applies FROM c
)
{_PERSON_EVENTS}
"""

_PERMITS = f"""
WITH c AS ({{candidates}}),
pe AS (
    SELECT key, wife_id AS person_id, 'wife' AS role, date, NULL::bigint AS self_move_id,
           true AS departure_applies, true AS death_applies FROM c
    UNION ALL
    SELECT key, husband_id, 'husband', date, NULL, false, true FROM c WHERE husband_id IS NOT NULL
)
{_PERSON_EVENTS}
"""

ROLE = {"mother": "母亲", "father": "父亲", "wife": "女方", "husband": "男方", "person": "该人员"}
DEPARTURE = {"move_out": "迁出", "float_out": "流出", "move_in": "迁入", "float_in": "流入"}
CODE_LABEL = {"origin_code": "原区划代码", "destination_code": "现区划代码"}


def _message(code: str, action: str, field: str, n1, n2, d: date | None, t: str | None) -> str:
    who = ROLE.get(field, "该人员")
    if code == PlausibilityCode.MOTHER_AGE_AT_BIRTH:
        return f"母亲生育时年龄为{n1}岁，{'低于' if t == 'low' else '高于'}合理范围（{n2}岁）"
    if code == PlausibilityCode.MARRIAGE_AGE and action == PlausibilityAction.REFUSE:
        return f"{who}登记结婚时年龄为{n1}岁，未满{n2}周岁，不能登记结婚"
    if code == PlausibilityCode.MARRIAGE_AGE:
        return f"{who}登记结婚时年龄为{n1}岁，未达到法定婚龄（{n2}周岁）"
    if code == PlausibilityCode.BIRTH_SPACING:
        return f"与该母亲的另一次生育仅相隔{n1}天，少于{n2}天（同一次分娩的多胞胎不受此限）"
    if code == PlausibilityCode.MARRIAGE_WHILE_MARRIED:
        return f"{who}已于{d:%Y-%m-%d}与他人登记结婚，此后未登记离婚或丧偶，不能再登记结婚"
    if code == PlausibilityCode.REPEATED_MARRIAGE_SAME_COUPLE:
        return f"这两人已登记结婚（{d:%Y-%m-%d}），其间没有离婚登记，不能重复登记结婚"
    if code == PlausibilityCode.EVENT_AFTER_DEPARTURE:
        return f"{who}已于{d:%Y-%m-%d}{DEPARTURE.get(t or '', '迁出')}本县，此后的登记需核实"
    if code == PlausibilityCode.EVENT_AFTER_DEATH:
        return f"{who}已于{d:%Y-%m-%d}死亡，登记的日期晚于死亡日期"
    if code == PlausibilityCode.DESTINATION_CODE:
        return f"{CODE_LABEL.get(field, '区划代码')}{t}既不是本县的村（居），也不是有效的外县区划代码"
    return "登记内容不合理"  # a code added to the choices without a message here


def _run(sql: str, candidates: str, params: dict | None, fields: dict[str, str], **extra: str) -> list[Finding]:
    statement = sql.format(candidates=candidates, **extra)
    with connection.cursor() as cursor:
        cursor.execute(statement, params or {})
        rows = cursor.fetchall()
    findings = [
        Finding(row=key, rule_code=code, action=action, field=fields.get(field, field),
                message=_message(code, action, field, n1, n2, d, t))
        for key, code, action, field, n1, n2, d, t in rows
    ]  # fmt: skip
    # Refusals first, then by row, so that a single entry reports what stops it.
    return sorted(set(findings), key=lambda f: (f.row, not f.refused, f.rule_code, f.field))


# --- set-based, one statement each --------------------------------------------------------------------


def births_findings(*, candidates: str, params: dict | None = None) -> list[Finding]:
    return _run(_BIRTHS, candidates, params, {"mother": "mother", "father": "father", "date": "date"})


def marriages_findings(*, candidates: str, params: dict | None = None) -> list[Finding]:
    return _run(_MARRIAGES, candidates, params, {})


def moves_findings(*, candidates: str, params: dict | None = None) -> list[Finding]:
    return _run(_MOVES, candidates, params, {"person": "date"})


def deaths_findings(*, candidates: str, params: dict | None = None) -> list[Finding]:
    return _run(_ONE_PERSON, candidates, params, {"person": "date"}, death_applies="false")


def contraception_findings(*, candidates: str, params: dict | None = None) -> list[Finding]:
    return _run(_ONE_PERSON, candidates, params, {"person": "start_date"}, death_applies="true")


def permits_findings(*, candidates: str, params: dict | None = None) -> list[Finding]:
    return _run(_PERMITS, candidates, params, {})


# --- one entry: a one-row candidate set ----------------------------------------------------------------


def _pk(obj) -> int | None:
    return getattr(obj, "pk", None)


def check_birth(*, mother, on: date, father=None, birth=None) -> list[Finding]:
    """A birth of ``mother`` on ``on`` (``birth``: the registered birth it corrects)."""
    return births_findings(
        candidates="SELECT 1 AS key, %(mother)s::bigint AS mother_id, %(father)s::bigint AS father_id, "
        "%(on)s::date AS date, %(self)s::bigint AS self_id",
        params={"mother": mother.pk, "father": _pk(father), "on": on, "self": _pk(birth)},
    )


def check_marriage(*, wife, husband, kind: str, on: date, marriage=None) -> list[Finding]:
    return marriages_findings(
        candidates="SELECT 1 AS key, %(wife)s::bigint AS wife_id, %(husband)s::bigint AS husband_id, "
        "%(kind)s::text AS kind, %(on)s::date AS date, %(self)s::bigint AS self_id",
        params={"wife": wife.pk, "husband": husband.pk, "kind": kind, "on": on, "self": _pk(marriage)},
    )


def check_move(*, person, kind: str, on: date, origin_code: str, destination_code: str, move=None) -> list[Finding]:
    return moves_findings(
        candidates="SELECT 1 AS key, %(person)s::bigint AS person_id, %(kind)s::text AS kind, %(on)s::date AS date, "
        "%(origin)s::text AS origin_code, %(destination)s::text AS destination_code, %(self)s::bigint AS self_id",
        params={
            "person": person.pk,
            "kind": kind,
            "on": on,
            "origin": origin_code,
            "destination": destination_code,
            "self": _pk(move),
        },
    )


def _one_person(person, on: date, event) -> tuple[str, dict]:
    return (
        "SELECT 1 AS key, %(person)s::bigint AS person_id, %(on)s::date AS date, %(self)s::bigint AS self_id",
        {"person": person.pk, "on": on, "self": _pk(event)},
    )


def check_death(*, person, on: date, death=None) -> list[Finding]:
    candidates, params = _one_person(person, on, death)
    return deaths_findings(candidates=candidates, params=params)


def check_contraception(*, person, start: date, use=None) -> list[Finding]:
    candidates, params = _one_person(person, start, use)
    return contraception_findings(candidates=candidates, params=params)


def check_permit(*, wife, husband=None, issued_on: date, permit=None) -> list[Finding]:
    return permits_findings(
        candidates="SELECT 1 AS key, %(wife)s::bigint AS wife_id, %(husband)s::bigint AS husband_id, "
        "%(on)s::date AS date, %(self)s::bigint AS self_id",
        params={"wife": wife.pk, "husband": _pk(husband), "on": issued_on, "self": _pk(permit)},
    )


def confirm(findings: list[Finding], *, confirmed: bool) -> str | None:
    """What a single entry does with its findings: a refusal raises ``RuleViolation`` (the rule's code, the
    field it concerns); warnings raise ``RuleViolation`` with code ``needs_confirmation`` on the field
    ``confirmed`` unless the clerk confirmed, and then come back as the text the audit trail keeps as the
    reason (None when nothing was held)."""
    refused = [f for f in findings if f.refused]
    if refused:
        first = refused[0]
        message = "；".join(dict.fromkeys(f.message for f in refused))
        raise RuleViolation(message, field=first.field, code=first.rule_code)
    held = list(dict.fromkeys(f.message for f in findings))
    if not held:
        return None
    if not confirmed:
        raise RuleViolation(
            f"请核实：{'；'.join(held)}。核实无误请勾选“{CONFIRM_LABEL}”后再提交（接口请传 confirmed=true）",
            field="confirmed",
            code=NEEDS_CONFIRMATION,
        )
    return f"经办人已核实确认：{'；'.join(held)}"
