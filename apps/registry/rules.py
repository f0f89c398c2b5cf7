"""The registry's cross-row rules (DESIGN §5), each written once, set-based, over a list of ids.

A single-row service calls a rule with one id, an import with the ids its upserts returned, the demo
generator after its COPY, a correction or a void with the ids it touched; the indicator computation and the
selectors build residence from the same SQL pieces. No other module re-implements one of these rules
(STYLE: one rule, one place):

- ``residence_sync``        现住址: the current village follows the latest live move into a county village;
- ``residence_at_sql`` / ``residence_by_person_sql``  residence at a date, for one person or all at once;
- ``hukou_at_sql``          户籍地 at a date: the household registration place, moved by 迁入/迁出 only;
- ``marital_status_sync``   婚姻状况: from the latest live marriage event, widowed when the spouse died;
- ``death_sync``            死亡: ``Person.death_date`` mirrors the live death record, and a death closes the
                            person's contraception on that day (a void of the death reopens only what it closed);
- ``contraception_sync``    避孕措施: an open method ends when the next starts, and at the death;
- ``births_recompute``      孩次 and 政策属性 of every live birth of the given mothers;
- ``births_recompute_policy_all``  政策属性 of every birth, after a policy rule or permit changes;
- ``wra_birth_bounds``      育龄妇女: the birth dates of women aged 15–49 on a date.

Voided events (``voided_at`` set) are kept with their history but count for nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import connection
from django.db.models import Q

# --- who is counted ----------------------------------------------------------------------------------

# 本县在册人员: a living person's own record in the county — not a 县外人员 stub (a spouse or parent registered
# elsewhere), not a duplicate retired by a merge. The households a sample check draws, the members its
# checklist lists and the persons a replayed roster addition may put back; one rule in its two forms.
LIVING_COUNTY_PERSON = Q(death_date__isnull=True, merged_into__isnull=True, is_external=False)


def living_county_person_sql(alias: str) -> str:
    """``LIVING_COUNTY_PERSON`` as an SQL condition on the ``registry_person`` row aliased ``alias``."""
    return f"{alias}.death_date IS NULL AND {alias}.merged_into_id IS NULL AND NOT {alias}.is_external"


# --- residence ---------------------------------------------------------------------------------------

LIVE_MOVES = "(SELECT * FROM registry_move WHERE voided_at IS NULL)"


def _destination_at(on: str) -> str:
    """Aggregate over one person's live moves: the destination of the latest move on or before ``on``."""
    return f"(array_agg(destination_code ORDER BY date DESC, id DESC) FILTER (WHERE date <= {on}))[1]"


FIRST_ORIGIN = "(array_agg(origin_code ORDER BY date, id))[1]"  # where the person lived before any move


def residence_at_sql(*, person: str, on: str) -> str:
    """Residence at ``on`` of the person row aliased ``person`` (DESIGN §5): the destination of the latest
    move on or before ``on``; before the first move, its origin; with no moves, the current village.
    ``on`` is an SQL expression (a parameter placeholder or a column)."""
    latest = f"coalesce({_destination_at(on)}, {FIRST_ORIGIN})"
    moves = f"SELECT {latest} FROM {LIVE_MOVES} mv_ WHERE mv_.person_id = {person}.id"  # noqa: S608
    return f"coalesce(({moves}), {person}.village_id)"


HUKOU_MOVES = "(SELECT * FROM registry_move WHERE voided_at IS NULL AND kind IN ('move_in', 'move_out'))"


# Persons with any live 迁入/迁出.
HUKOU_MOVERS = f"(SELECT DISTINCT person_id FROM {HUKOU_MOVES} hm_)"  # noqa: S608 - constants


def hukou_at_sql(*, person: str, on: str, moved: str | None = None) -> str:
    """户籍地 at ``on`` of the person row aliased ``person``, as a 12-digit code: the destination of the latest
    live 迁入/迁出 (a household registration move; 流入/流出 leave the 户籍 where it is) on or before ``on``;
    before the first such move, its origin; with none, the registered 户籍地区划代码, and when that is empty
    (DESIGN §8: "empty = the residence's county") the village of residence. The shape of ``residence_at_sql``."""
    latest = f"coalesce({_destination_at(on)}, {FIRST_ORIGIN})"
    moves = f"SELECT {latest} FROM {HUKOU_MOVES} mv_ WHERE mv_.person_id = {person}.id"  # noqa: S608
    registered = f"coalesce(nullif({person}.hukou_place_code, ''), {person}.village_id)"
    if moved is None:
        return f"coalesce(({moves}), {registered})"
    # ``moved``: an SQL condition that the person has a 迁入/迁出 (e.g. a join on ``HUKOU_MOVERS``), so that a
    # query over many person-dates looks the moves up only for those who have some.
    return f"CASE WHEN {moved} THEN coalesce(({moves}), {registered}) ELSE {registered} END"


def residence_by_person_sql(dates: dict[str, str]) -> str:
    """The same rule for every person at once: one pass over the moves, one row per person who moved, with
    ``dest_<key>`` for each date of ``dates`` ({key: SQL expression}) and ``origin``. Join it on
    ``person_id`` and take ``coalesce(m.dest_<key>, m.origin, p.village_id)`` (``residence_coalesce``)."""
    columns = ", ".join(f"{_destination_at(on)} AS dest_{key}" for key, on in dates.items())
    return f"SELECT person_id, {columns}, {FIRST_ORIGIN} AS origin FROM {LIVE_MOVES} mv_ GROUP BY person_id"  # noqa: S608


def residence_coalesce(*, moves: str, person: str, key: str) -> str:
    return f"coalesce({moves}.dest_{key}, {moves}.origin, {person}.village_id)"


_RESIDENCE_SYNC_SQL = """
WITH latest AS (
    SELECT DISTINCT ON (person_id) person_id, destination_code
    FROM registry_move WHERE person_id = ANY(%(persons)s) AND voided_at IS NULL
    ORDER BY person_id, date DESC, id DESC
), first_voided AS (  -- persons left with no live move: their earliest voided (wrong) move, with the audit
    -- event of its entry (time and context: every row written by that action shares them)
    SELECT DISTINCT ON (v.person_id) v.person_id, v.origin_code,
        coalesce(me.pgh_created_at, v.created_at) AS entered_at, me.pgh_context_id AS entered_ctx
    FROM registry_move v
    LEFT JOIN latest l ON l.person_id = v.person_id
    LEFT JOIN registry_moveevent me ON me.pgh_obj_id = v.id AND me.pgh_label = 'insert'
    WHERE v.person_id = ANY(%(persons)s) AND l.person_id IS NULL
    ORDER BY v.person_id, v.created_at, v.id, me.pgh_id
), target AS (
    SELECT l.person_id AS id, a.code
    FROM latest l JOIN areas_area a ON a.code = l.destination_code AND a.level = 'village'
    UNION ALL
    -- after a void that leaves no move: the village the person had before the wrong move was entered (the
    -- audit trail's last state of the person before it), else that move's origin when it is a county village
    SELECT f.person_id, coalesce(
        (SELECT e.village_id FROM registry_personevent e
         WHERE e.pgh_obj_id = f.person_id AND e.pgh_created_at <= f.entered_at
           AND e.pgh_context_id IS DISTINCT FROM f.entered_ctx
         ORDER BY e.pgh_id DESC LIMIT 1),
        (SELECT a.code FROM areas_area a WHERE a.code = f.origin_code AND a.level = 'village'))
    FROM first_voided f
)
UPDATE registry_person p SET village_id = t.code, version = p.version + 1, updated_at = now()
FROM target t WHERE p.id = t.id AND t.code IS NOT NULL AND p.village_id <> t.code
RETURNING p.id
"""


def residence_sync(*, person_ids: Iterable[int]) -> list[int]:
    """现住址 follows the latest live move whose destination is a village of this county (a move out of the
    county leaves the last county village). Persons with no move at all keep the village they were entered
    with; a person whose every move was voided goes back to where the audit trail had them before the first
    wrong move. Returns the ids of the persons whose village changed."""
    return _run(_RESIDENCE_SYNC_SQL, person_ids)


# --- women of childbearing age ---------------------------------------------------------------------


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def age_threshold(on: date, years: int) -> date:
    """The earliest birth date of a person younger than ``years`` (completed years) on ``on``: a person is
    aged ``years`` or more on ``on`` exactly when born before it (one born on 29 February is a year older on
    1 March in other years, as PostgreSQL's ``age()`` counts)."""
    return _years_before(on, years) + timedelta(days=1)


def wra_birth_bounds(on: date) -> tuple[date, date]:
    """育龄妇女 (DESIGN §5): women aged 15–49 on ``on``, as the range of their birth dates (oldest, youngest)."""
    return _years_before(on, 50) + timedelta(days=1), _years_before(on, 15)


# --- marital status ----------------------------------------------------------------------------------

_MARITAL_SYNC_SQL = """
WITH events AS (
    SELECT wife_id AS person_id, husband_id AS spouse_id, kind, date, id
    FROM registry_marriage WHERE wife_id = ANY(%(persons)s) AND voided_at IS NULL
    UNION ALL
    SELECT husband_id, wife_id, kind, date, id
    FROM registry_marriage WHERE husband_id = ANY(%(persons)s) AND voided_at IS NULL
), latest AS (
    SELECT DISTINCT ON (person_id) person_id, spouse_id, kind FROM events ORDER BY person_id, date DESC, id DESC
), status AS (
    SELECT p.id,
        CASE
            WHEN l.person_id IS NULL THEN 'unmarried'  -- every marriage event of the person was voided
            WHEN l.kind = 'divorce' THEN 'divorced'
            WHEN s.death_date IS NOT NULL AND (p.death_date IS NULL OR p.death_date > s.death_date) THEN 'widowed'
            ELSE 'married'
        END AS status
    FROM registry_person p
    LEFT JOIN latest l ON l.person_id = p.id
    LEFT JOIN registry_person s ON s.id = l.spouse_id
    WHERE p.id = ANY(%(persons)s)
      AND (l.person_id IS NOT NULL OR EXISTS (
            SELECT 1 FROM registry_marriage v WHERE v.wife_id = p.id OR v.husband_id = p.id))
)
UPDATE registry_person p SET marital_status = s.status, version = p.version + 1, updated_at = now()
FROM status s WHERE p.id = s.id AND p.marital_status IS DISTINCT FROM s.status
RETURNING p.id
"""


def marital_status_sync(*, person_ids: Iterable[int]) -> list[int]:
    """婚姻状况 from each person's latest live marriage event (by date, then entry): married, divorced, or
    widowed when the spouse of that marriage died first. A person none of whose events is live any more is
    unmarried; a person who never had an event keeps the status entered. Pass both spouses' ids."""
    return _run(_MARITAL_SYNC_SQL, person_ids)


def spouses_of(*, person_ids: Iterable[int]) -> list[int]:
    """The persons married (by a live event) to any of ``person_ids``: a death changes their status."""
    persons = list(set(person_ids))
    if not persons:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT husband_id FROM registry_marriage WHERE wife_id = ANY(%(p)s) AND voided_at IS NULL "
            "UNION SELECT wife_id FROM registry_marriage WHERE husband_id = ANY(%(p)s) AND voided_at IS NULL",
            {"p": persons},
        )
        return [row[0] for row in cursor.fetchall()]


# --- death -------------------------------------------------------------------------------------------

_DEATH_DATE_SYNC_SQL = """
UPDATE registry_person p SET death_date = d.date, version = p.version + 1, updated_at = now()
FROM (SELECT p2.id, (SELECT min(x.date) FROM registry_death x WHERE x.person_id = p2.id AND x.voided_at IS NULL)
      AS date FROM registry_person p2 WHERE p2.id = ANY(%(persons)s)) d
WHERE p.id = d.id AND p.death_date IS DISTINCT FROM d.date
RETURNING p.id
"""

# A death ends every method in use on the death date (marked, so that a void of the death reopens exactly
# those); with no live death, what a death had closed is open again.
_CONTRACEPTION_CLOSE_SQL = """
UPDATE registry_contraceptiveuse u SET end_date = p.death_date, closed_by_death = true, updated_at = now()
FROM registry_person p
WHERE u.person_id = p.id AND p.id = ANY(%(persons)s) AND p.death_date IS NOT NULL AND u.voided_at IS NULL
  AND u.start_date <= p.death_date AND (u.end_date IS NULL OR u.end_date > p.death_date
                                        OR (u.closed_by_death AND u.end_date <> p.death_date))
RETURNING u.id
"""
_CONTRACEPTION_REOPEN_SQL = """
UPDATE registry_contraceptiveuse u SET end_date = NULL, closed_by_death = false, updated_at = now()
FROM registry_person p
WHERE u.person_id = p.id AND p.id = ANY(%(persons)s) AND p.death_date IS NULL AND u.closed_by_death
RETURNING u.id
"""


_CONTRACEPTION_SUCCESSION_SQL = """
WITH next_start AS (
    SELECT u.id, (SELECT min(v.start_date) FROM registry_contraceptiveuse v
                  WHERE v.person_id = u.person_id AND v.start_date > u.start_date AND v.voided_at IS NULL) AS day
    FROM registry_contraceptiveuse u
    WHERE u.person_id = ANY(%(persons)s) AND u.end_date IS NULL AND u.voided_at IS NULL
)
UPDATE registry_contraceptiveuse u SET end_date = n.day, updated_at = now()
FROM next_start n WHERE u.id = n.id AND n.day IS NOT NULL
RETURNING u.id
"""


def contraception_sync(*, person_ids: Iterable[int]) -> list[int]:
    """避孕措施: a method left open ends the day the person's next live method starts, and none is in use
    after the person's death (closed on the death date, marked, so that a void of the death reopens exactly
    those). Returns the ids of the uses it changed."""
    persons = list(set(person_ids))
    return [
        *_run(_CONTRACEPTION_SUCCESSION_SQL, persons),
        *_run(_CONTRACEPTION_CLOSE_SQL, persons),
        *_run(_CONTRACEPTION_REOPEN_SQL, persons),
    ]


def death_sync(*, person_ids: Iterable[int]) -> list[int]:
    """死亡: ``death_date`` mirrors the person's live death record; then the contraception rule, then the
    marital status of the spouses (a surviving spouse is widowed, or married again after a void).
    Returns the ids of the persons whose death date changed."""
    persons = list(set(person_ids))
    if not persons:
        return []
    changed = _run(_DEATH_DATE_SYNC_SQL, persons)
    contraception_sync(person_ids=persons)
    marital_status_sync(person_ids=[*persons, *spouses_of(person_ids=persons)])
    return changed


# --- births ------------------------------------------------------------------------------------------

_RECOMPUTE_ORDER_SQL = """
WITH ordered AS (
    SELECT id, row_number() OVER (PARTITION BY mother_id ORDER BY date, id) AS n
    FROM registry_birth WHERE mother_id = ANY(%(mothers)s) AND voided_at IS NULL
)
UPDATE registry_birth b SET birth_order = o.n
FROM ordered o WHERE b.id = o.id AND b.birth_order IS DISTINCT FROM o.n
"""

# 政策属性: in policy when a live permit of the mother covers the birth's date and order, or when the order
# is within what the rules in force on the birth date allow for the mother's hukou type and circumstances.
# With no rule in force at all, nothing forbids the birth.
_RECOMPUTE_POLICY_SQL_TEMPLATE = """
WITH first_child AS (
    SELECT DISTINCT ON (mother_id) mother_id, sex
    FROM registry_birth WHERE {mothers} AND voided_at IS NULL
    ORDER BY mother_id, date, id
), computed AS (
    SELECT b.id,
        CASE
            WHEN EXISTS (
                SELECT 1 FROM registry_birthpermit p
                WHERE p.wife_id = b.mother_id AND p.voided_at IS NULL AND p.issued_on <= b.date
                  AND (p.valid_until IS NULL OR b.date <= p.valid_until) AND b.birth_order <= p.child_order
            ) THEN 'in_policy'
            WHEN b.birth_order <= COALESCE((
                SELECT max(r.children_allowed) FROM registry_birthpolicyrule r
                WHERE r.valid_from <= b.date AND (r.valid_to IS NULL OR b.date <= r.valid_to)
                  AND (r.hukou_type = '' OR r.hukou_type = m.hukou_type)
                  AND (r.condition = 'always' OR (r.condition = 'first_child_female' AND fc.sex = 'F'))
            ), 32767) THEN 'in_policy'
            ELSE 'out_of_policy'
        END AS status
    FROM registry_birth b
    JOIN registry_person m ON m.id = b.mother_id
    LEFT JOIN first_child fc ON fc.mother_id = b.mother_id
    WHERE {b_mothers} AND b.voided_at IS NULL
)
UPDATE registry_birth b
SET policy_status_computed = c.status,
    policy_status = CASE WHEN b.policy_override_reason = '' THEN c.status ELSE b.policy_status END
FROM computed c
WHERE b.id = c.id
  AND (b.policy_status_computed IS DISTINCT FROM c.status
       OR (b.policy_override_reason = '' AND b.policy_status IS DISTINCT FROM c.status))
RETURNING b.id
"""
_RECOMPUTE_POLICY_SQL = _RECOMPUTE_POLICY_SQL_TEMPLATE.format(
    mothers="mother_id = ANY(%(mothers)s)", b_mothers="b.mother_id = ANY(%(mothers)s)"
)
_RECOMPUTE_POLICY_ALL_SQL = _RECOMPUTE_POLICY_SQL_TEMPLATE.format(mothers="TRUE", b_mothers="TRUE")


def births_recompute(*, mother_ids: Iterable[int]) -> list[int]:
    """孩次 (the rank of a live birth among the mother's live births by date, then entry), then 政策属性,
    of every live birth of these mothers: two set-based statements. Returns the births whose policy
    status changed (the fee side flags their cases)."""
    mothers = list(set(mother_ids))
    if not mothers:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_RECOMPUTE_ORDER_SQL, {"mothers": mothers})
        cursor.execute(_RECOMPUTE_POLICY_SQL, {"mothers": mothers})
        return [row[0] for row in cursor.fetchall()]


def births_recompute_policy_all() -> list[int]:
    """After a policy rule or permit changes: every live birth's policy status, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_RECOMPUTE_POLICY_ALL_SQL)
        return [row[0] for row in cursor.fetchall()]


def _run(sql: str, person_ids: Iterable[int]) -> list[int]:
    persons = list(set(person_ids))
    if not persons:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, {"persons": persons})
        return [row[0] for row in cursor.fetchall()]
