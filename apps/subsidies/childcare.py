"""育儿补贴 eligibility as the national scheme runs it (DESIGN §7), set-based: one ``INSERT … SELECT`` fills the
rosters of every township for a month, back months included.

A child is paid for month *m* when:

- a parent or guardian applied (``ChildcareApplication``, status 有效) on or before the roster month's last
  day; with several applications the earliest of a living applicant pays, to that applicant's account;
- a rule of the programme is in force on the first day of *m* (amount and age limit are rule data: the rule's
  ``age_under`` predicate gives the years, its ``alive`` predicate whether the child must be alive);
- *m* is within the child's months under the age limit, counted by months from the birth month
  (出生当月起至满3周岁前一月: 36 months for 3 years), so a child born before 2025 counts only its months
  under 3 from the rule's start;
- the child was alive on the first day of *m* or was born in *m*, when the rule has ``alive``;
- the child's 户籍 (``registry.rules.hukou_at_sql``) was in the county on the last day of the month before
  *m*: a 迁出 stops the payment from the month after the move (and a 迁入 starts it the month after).

Back months are paid on a late application, without a limit other than the rules' start (the national
scheme pays every month under 3 since 2025-01-01 whenever the parent applies). A month already in a roster of
another period (paid, being paid, or due there) is not entered again; the database refuses a second
non-failed payment of a child for a month whoever applied (``payment_once_per_person_period``, the payment's
period being the entry's ``month``).
"""

from __future__ import annotations

from decimal import Decimal

from apps.core.errors import RuleViolation
from apps.registry.rules import HUKOU_MOVERS, hukou_at_sql

# Reason codes of 育儿补贴 entries (labels shown by ``eligibility.reason_labels``).
REASONS = {
    "childcare_hukou": "户籍在本县",
    "childcare_applied": "父母或监护人已申领",
    "childcare_back_pay": "补发往月",
    "childcare_hukou_out": "户籍已迁出本县",
    "childcare_no_application": "无有效申领（已撤回、不予受理或申请人已死亡）",
}


def rule_terms(rule) -> tuple[int, bool]:
    """``(months, alive)`` of a 育儿补贴 rule: the age limit in months and whether the child must be alive."""
    months = None
    alive = False
    for spec in rule.predicates or ():
        if spec.get("code") == "age_under":
            months = int(spec["years"]) * 12
        elif spec.get("code") == "alive":
            alive = True
    if not months:
        raise RuleViolation(f"育儿补贴规则“{rule.category}”缺少年龄条件（age_under）", field="predicates")
    return months, alive


def _rules_values(rules: list) -> str:
    if not rules:
        raise RuleViolation("该期间没有有效的资格规则", field="period", code="no_rules")
    rows = []
    for rule in rules:
        months, alive = rule_terms(rule)
        valid_to = f"'{rule.valid_to.isoformat()}'::date" if rule.valid_to else "NULL::date"
        category = rule.category.replace("'", "''").replace("%", "%%")
        rows.append(
            f"({int(rule.pk)}, {int(rule.priority)}, '{category}'::varchar, '{rule.valid_from.isoformat()}'::date,"
            f" {valid_to}, {Decimal(rule.amount)}::numeric, {months}, {'true' if alive else 'false'})"
        )
    return ", ".join(rows)


def childcare_fill_sql(*, rules: list) -> str:
    """The statement that fills every township's 育儿补贴 roster of a month. ``rules``: every rule of the
    programme (each month takes the one in force on its first day). Parameters as ``roster_fill_sql``
    (``low``/``high``, ``programme``, ``period``, ``previous``) plus ``start``/``end``, the month's days."""
    first = min(rule.valid_from for rule in rules) if rules else None
    hukou = hukou_at_sql(person="p", on="(m.d::date - 1)", moved="hm.person_id IS NOT NULL")
    return f"""
WITH rules (id, priority, category, valid_from, valid_to, amount, months, alive) AS (VALUES {_rules_values(rules)}),
chosen AS (
    SELECT DISTINCT ON (a.child_id) a.child_id, a.applicant_id
    FROM subsidies_childcareapplication a
    JOIN registry_person ap ON ap.id = a.applicant_id
    WHERE a.programme_id = %(programme)s AND a.status = 'active' AND a.applied_on <= %(end)s
      AND ap.death_date IS NULL AND ap.merged_into_id IS NULL
    ORDER BY a.child_id, a.applied_on, a.id
),
held AS (
    SELECT e.person_id, coalesce(nullif(e.month, ''), r.period) AS month
    FROM subsidies_rosterentry e JOIN subsidies_roster r ON r.id = e.roster_id
    WHERE r.programme_id = %(programme)s AND r.period <> %(period)s AND e.change <> 'leaving'
      AND r.township_id >= %(low)s AND r.township_id < %(high)s
),
months AS (
    SELECT c.child_id, c.applicant_id, m.d::date AS m, to_char(m.d, 'YYYY"M"MM') AS code,
           {hukou} AS hukou, p.village_id AS residence, p.birth_date, p.death_date
    FROM chosen c
    JOIN registry_person p ON p.id = c.child_id AND NOT p.is_external AND p.merged_into_id IS NULL
    LEFT JOIN {HUKOU_MOVERS} hm ON hm.person_id = c.child_id
    CROSS JOIN LATERAL generate_series(
        greatest(date_trunc('month', p.birth_date::timestamp), date_trunc('month', '{first}'::timestamp)),
        %(start)s::timestamp, interval '1 month') AS m(d)
),
placed AS (
    SELECT mo.child_id, mo.applicant_id, mo.m, mo.code, r.id AS rule_id, r.category, r.amount, r.months, r.alive,
           coalesce(v.code, mo.residence) AS village_id
    FROM months mo
    CROSS JOIN LATERAL (
        SELECT * FROM rules r WHERE r.valid_from <= mo.m AND (r.valid_to IS NULL OR r.valid_to >= mo.m)
        ORDER BY r.priority, r.id LIMIT 1
    ) r
    LEFT JOIN areas_area v ON v.code = mo.hukou AND v.level = 'village'
    WHERE mo.m < date_trunc('month', mo.birth_date::timestamp) + make_interval(months => r.months)
      AND (NOT r.alive OR mo.death_date IS NULL OR mo.death_date >= mo.m)
      AND mo.hukou >= %(low)s AND mo.hukou < %(high)s
      AND NOT EXISTS (SELECT 1 FROM held h WHERE h.person_id = mo.child_id AND h.month = mo.code)
),
prev AS (
    SELECT e.person_id, e.payee_id, e.village_id, r.township_id
    FROM subsidies_rosterentry e JOIN subsidies_roster r ON r.id = e.roster_id
    WHERE r.programme_id = %(programme)s AND r.period = %(previous)s AND e.change <> 'leaving'
      AND coalesce(nullif(e.month, ''), r.period) = %(previous)s
      AND r.township_id >= %(low)s AND r.township_id < %(high)s
),
cur AS (
    SELECT pl.*, substr(pl.village_id, 1, 9) || '000' AS township_id FROM placed pl WHERE pl.m = %(start)s::date
),
rule_now AS (
    SELECT * FROM rules r
    WHERE r.valid_from <= %(start)s::date AND (r.valid_to IS NULL OR r.valid_to >= %(start)s::date)
    ORDER BY r.priority, r.id LIMIT 1
),
decided AS (
    SELECT pl.child_id AS person_id, pl.applicant_id AS payee_id, pl.village_id,
           substr(pl.village_id, 1, 9) || '000' AS township_id, pl.rule_id, pl.category, pl.amount,
           CASE WHEN pl.m = %(start)s::date AND EXISTS (
                    SELECT 1 FROM prev WHERE prev.person_id = pl.child_id
                      AND prev.township_id = substr(pl.village_id, 1, 9) || '000')
                THEN 'continuing' ELSE 'new' END AS change,
           array_remove(ARRAY['age_under:' || (pl.months / 12), CASE WHEN pl.alive THEN 'alive' END,
                              'childcare_hukou', 'childcare_applied',
                              CASE WHEN pl.m < %(start)s::date THEN 'childcare_back_pay' END]::varchar[], NULL)
               AS reason_codes,
           pl.code AS month
    FROM placed pl
    UNION ALL
    SELECT prev.person_id, prev.payee_id, prev.village_id, prev.township_id, NULL, '', 0, 'leaving',
           ARRAY[CASE
               WHEN cur.child_id IS NOT NULL THEN 'moved_township'
               WHEN NOT EXISTS (SELECT 1 FROM chosen c WHERE c.child_id = prev.person_id)
                   THEN 'childcare_no_application'
               WHEN cp.death_date < %(start)s::date THEN '!alive'
               WHEN %(start)s::date >= date_trunc('month', cp.birth_date::timestamp)
                                      + make_interval(months => coalesce(rn.months, 0))
                   THEN '!age_under:' || (coalesce(rn.months, 0) / 12)
               ELSE 'childcare_hukou_out' END]::varchar[],
           %(period)s
    FROM prev
    JOIN registry_person cp ON cp.id = prev.person_id
    LEFT JOIN cur ON cur.child_id = prev.person_id
    LEFT JOIN rule_now rn ON true
    WHERE cur.child_id IS NULL OR cur.township_id <> prev.township_id
)
INSERT INTO subsidies_rosterentry
    (roster_id, person_id, payee_id, village_id, rule_id, category, amount, change, reason_codes, month)
SELECT r.id, d.person_id, d.payee_id, d.village_id, d.rule_id, d.category, d.amount, d.change, d.reason_codes,
       d.month
FROM decided d
JOIN subsidies_roster r ON r.programme_id = %(programme)s AND r.period = %(period)s AND r.township_id = d.township_id
"""  # noqa: S608
