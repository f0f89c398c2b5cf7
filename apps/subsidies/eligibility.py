"""The eligibility engine: data-defined predicates compiled to SQL, a whole county in one statement.

A ``ProgrammeRule`` holds a JSON list such as ``[{"code": "age_at_least", "years": 60}, {"code": "alive"}]``.
Each code names a ``Predicate`` here, which compiles (with its validated parameters) to a boolean SQL
expression over the candidate person ``p``, the family aggregate ``f`` (parents: counts of children by sex,
policy status and death at the reference date) or the mother ``m`` (children), and the reference date
``ref.d``. ``roster_fill_sql`` composes every rule in force into one ``INSERT … SELECT`` that writes the
rosters of every township, each decision with its reason codes: for beneficiaries the conditions met, for
those leaving the conditions that failed (``!code:arg``), or ``moved_township`` / ``not_found``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from apps.core.errors import RuleViolation
from apps.registry.models import HukouType
from apps.subsidies.childcare import REASONS as CHILDCARE_REASONS

PARENT, CHILD = "parent", "child"


def _years_ago(n: int) -> str:
    return f"(ref.d - make_interval(years => {int(n)}))::date"


@dataclass(frozen=True)
class Predicate:
    code: str
    subjects: tuple[str, ...]
    sql: Callable[[dict], str]
    label: Callable[[str], str]  # the condition met, from the stored argument
    fail_label: Callable[[str], str]  # the condition not met
    params: dict[str, str] = field(default_factory=dict)  # name -> "int" | "hukou"

    def arg(self, spec: dict) -> str:
        return ",".join(str(spec[name]) for name in self.params)


_HUKOU = dict(HukouType.choices)
_GRADES = {1: "一", 2: "二", 3: "三", 4: "四"}

PREDICATES: dict[str, Predicate] = {
    p.code: p
    for p in [
        Predicate(
            "age_at_least",
            (PARENT, CHILD),
            lambda s: f"p.birth_date <= {_years_ago(s['years'])}",
            lambda a: f"年满{a}周岁",
            lambda a: f"未满{a}周岁",
            {"years": "int"},
        ),
        Predicate(
            "age_under",
            (PARENT, CHILD),
            lambda s: f"p.birth_date > {_years_ago(s['years'])}",
            lambda a: f"未满{a}周岁",
            lambda a: f"已满{a}周岁",
            {"years": "int"},
        ),
        Predicate(
            "mother_age_at_least",
            (PARENT,),
            lambda s: f"f.mother_birth_date <= {_years_ago(s['years'])}",
            lambda a: f"女方年满{a}周岁",
            lambda a: f"女方未满{a}周岁",
            {"years": "int"},
        ),
        Predicate(
            "hukou",
            (PARENT, CHILD),
            lambda s: f"p.hukou_type = '{s['type']}'",
            lambda a: f"{_HUKOU.get(a, a)}户籍",
            lambda a: f"不是{_HUKOU.get(a, a)}户籍",
            {"type": "hukou"},
        ),
        Predicate(
            "alive",
            (PARENT, CHILD),
            lambda s: "(p.death_date IS NULL OR p.death_date > ref.d)",
            lambda a: "健在",
            lambda a: "已死亡",
        ),
        Predicate(
            "mother_alive",
            (CHILD,),
            lambda s: "(m.death_date IS NULL OR m.death_date > ref.d)",
            lambda a: "母亲（领取人）健在",
            lambda a: "母亲（领取人）已死亡",
        ),
        Predicate(
            "one_child_or_two_daughters",
            (PARENT,),
            lambda s: "(f.children = 1 OR (f.children = 2 AND f.daughters = 2))",
            lambda a: "只生育一个子女或两个女孩",
            lambda a: "子女数不符（不是一个子女或两个女孩）",
        ),
        Predicate(
            "only_child",
            (PARENT,),
            lambda s: "f.children = 1",
            lambda a: "只生育一个子女",
            lambda a: "不是只生育一个子女",
        ),
        Predicate(
            "no_out_of_policy_birth",
            (PARENT,),
            lambda s: "f.out_of_policy = 0",
            lambda a: "无政策外生育",
            lambda a: "有政策外生育",
        ),
        Predicate(
            "only_child_died",
            (PARENT,),
            lambda s: "(f.children = 1 AND f.children_dead = 1)",
            lambda a: "独生子女死亡",
            lambda a: "无独生子女死亡",
        ),
        Predicate(
            "only_child_disabled",
            (PARENT,),
            lambda s: (
                "(f.children = 1 AND f.children_dead = 0 AND EXISTS (SELECT 1 FROM subsidies_disabilityrecord d"  # noqa: S608
                " WHERE d.person_id = f.last_child_id AND d.recognised_on <= ref.d"
                f" AND d.grade <= {int(s['max_grade'])}))"
            ),
            lambda a: f"独生子女{_GRADES.get(int(a), a)}级以上伤残",
            lambda a: f"无独生子女{_GRADES.get(int(a), a)}级以上伤残登记",
            {"max_grade": "int"},
        ),
        Predicate(
            "spouse_hukou",
            (PARENT,),
            # The spouse by the latest live marriage event on or before the reference date (``sp``, see
            # ``_SPOUSE_CTE``); divorced, widowed or a spouse who died: no spouse to check. A parent with no
            # marriage on record: the other parent of each child, while alive, stands for the spouse.
            lambda s: (
                f"CASE WHEN sp.person_id IS NOT NULL THEN (sp.hukou IS NULL OR sp.hukou = '{s['type']}')"
                f" ELSE (f.co_parent_hukou IS NULL OR f.co_parent_hukou <@ ARRAY['{s['type']}']::varchar[]) END"
            ),
            lambda a: f"配偶为{_HUKOU.get(a, a)}户籍（或无配偶）",
            lambda a: f"配偶不是{_HUKOU.get(a, a)}户籍",
            {"type": "hukou"},
        ),
        Predicate(
            "living_one_or_two_daughters_or_none",
            (PARENT,),
            # Living children on the reference date, not births: an only child who died and a permitted
            # second child born since leave one living child.
            lambda s: (
                "(f.living = 1 OR (f.living = 2 AND f.living_daughters = 2) OR (f.living = 0 AND f.children > 0))"
            ),
            lambda a: "现存一个子女或两个女孩，或子女死亡现无子女",
            lambda a: "现存子女数不符（不是一个子女或两个女孩，也不是子女死亡现无子女）",
        ),
        Predicate(
            "no_out_of_policy_birth_between",
            (PARENT,),
            lambda s: (
                "NOT EXISTS (SELECT 1 FROM unnest(f.out_of_policy_years) AS y(year)"  # noqa: S608 (two ints)
                f" WHERE y.year BETWEEN {int(s['from_year'])} AND {int(s['to_year'])})"
            ),
            lambda a: "{}至{}年间无政策外生育".format(*a.split(",")),
            lambda a: "{}至{}年间有政策外生育".format(*a.split(",")),
            {"from_year": "year", "to_year": "year"},
        ),
        Predicate(
            "youngest_child_under",
            (PARENT,),
            lambda s: f"f.youngest_birth > {_years_ago(s['years'])}",
            lambda a: f"子女未满{a}周岁",
            lambda a: f"子女已满{a}周岁",
            {"years": "int"},
        ),
    ]
}

# Reason codes that are not predicates: why someone leaves a roster without failing a condition.
SPECIAL_REASONS = {
    "moved_township": "已迁往本县其他乡镇（在该乡镇名册中）",
    "not_found": "登记信息中已无符合条件的记录（迁出本县或生育记录已更正）",
}
SPECIAL_REASONS.update(CHILDCARE_REASONS)  # 育儿补贴 (apps.subsidies.childcare)


def predicates_validate(specs: object, *, subject: str | None) -> list[dict]:
    """Checks a rule's JSON: known codes, the parameters each needs, and codes valid for the subject."""
    if not isinstance(specs, list) or not specs:
        raise RuleViolation("资格条件应为非空列表", field="predicates")
    clean = []
    for spec in specs:
        if not isinstance(spec, dict) or spec.get("code") not in PREDICATES:
            known = "、".join(PREDICATES)
            raise RuleViolation(f"未知的资格条件：{spec!r:.60}（可用：{known}）", field="predicates")
        pred = PREDICATES[spec["code"]]
        if subject and subject not in pred.subjects:
            raise RuleViolation(f"资格条件{pred.code}不适用于该项目的发放对象", field="predicates")
        out = {"code": pred.code}
        for name, kind in pred.params.items():
            value = spec.get(name)
            if kind == "int":
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 150:
                    raise RuleViolation(f"资格条件{pred.code}的参数{name}应为0到150之间的整数", field="predicates")
            elif kind == "year":
                if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2100:
                    raise RuleViolation(f"资格条件{pred.code}的参数{name}应为1900到2100之间的年份", field="predicates")
            elif value not in _HUKOU:
                raise RuleViolation(f"资格条件{pred.code}的参数{name}应为{'或'.join(_HUKOU)}", field="predicates")
            out[name] = value
        if "from_year" in out and out["from_year"] > out["to_year"]:
            raise RuleViolation(f"资格条件{pred.code}的起始年份不能晚于截止年份", field="predicates")
        clean.append(out)
    return clean


def reason_labels(codes: Iterable[str]) -> list[str]:
    """Reason codes as the reviewer reads them: ``age_at_least:60`` -> 年满60周岁, ``!alive`` -> 已死亡."""
    labels = []
    for code in codes or ():
        if code in SPECIAL_REASONS:
            labels.append(SPECIAL_REASONS[code])
            continue
        failed = code.startswith("!")
        name, _, arg = code.lstrip("!").partition(":")
        pred = PREDICATES.get(name)
        if pred is None:
            labels.append(code)
        else:
            labels.append(pred.fail_label(arg) if failed else pred.label(arg))
    return labels


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def _rule_select(rule, *, subject: str) -> str:
    """One rule's candidates: every person of the subject with ``ok`` and the reasons met / failed."""
    specs = predicates_validate(rule.predicates, subject=subject)
    exprs, passes, fails = [], [], []
    for spec in specs:
        pred = PREDICATES[spec["code"]]
        arg = pred.arg(spec)
        code = pred.code + (f":{arg}" if arg else "")
        expr = f"COALESCE(({pred.sql(spec)}), false)"
        exprs.append(expr)
        passes.append(_quote(code))
        fails.append(f"CASE WHEN NOT {expr} THEN {_quote('!' + code)} END")
    ok = " AND ".join(exprs)
    spouse = " LEFT JOIN spouse sp ON sp.person_id = p.id" if _uses_spouse([rule]) else ""
    source = (
        "fam f JOIN registry_person p ON p.id = f.parent_id" + spouse
        if subject == PARENT
        else "registry_birth b JOIN registry_person p ON p.id = b.child_id JOIN registry_person m ON m.id = b.mother_id"
    )
    payee = "p.id" if subject == PARENT else "b.mother_id"
    # Every interpolated value is an int, a Decimal, a whitelisted code or a quoted literal (``_quote``).
    return (
        f"SELECT p.id AS person_id, {payee} AS payee_id, p.village_id, {int(rule.pk)} AS rule_id,"  # noqa: S608
        f" {int(rule.priority)} AS priority, {_quote(rule.category)}::varchar AS category,"
        f" {rule.amount}::numeric AS amount, ({ok}) AS ok,"
        f" ARRAY[{', '.join(passes)}]::varchar[] AS passes,"
        f" array_remove(ARRAY[{', '.join(fails)}]::varchar[], NULL) AS fails"
        f" FROM ref CROSS JOIN {source}"
        " WHERE p.village_id >= %(low)s AND p.village_id < %(high)s"
        # county residents, each once (no external spouse records, no retired duplicates); live births only
        " AND NOT p.is_external AND p.merged_into_id IS NULL"
        + ("" if subject == PARENT else " AND b.voided_at IS NULL")
    )


# Per parent, over the live births on or before the reference date: births, living children (by the child's
# death date), out-of-policy births and their years, and the hukou types of the other parents still alive.
_FAMILY_CTE = """
fam AS (
    SELECT x.parent_id,
           count(*) AS children,
           count(*) FILTER (WHERE b.sex = 'F') AS daughters,
           count(*) FILTER (WHERE b.policy_status = 'out_of_policy') AS out_of_policy,
           array_agg(extract(year FROM b.date)::int) FILTER (WHERE b.policy_status = 'out_of_policy')
               AS out_of_policy_years,
           count(*) FILTER (WHERE c.death_date <= ref.d) AS children_dead,
           count(*) FILTER (WHERE c.death_date IS NULL OR c.death_date > ref.d) AS living,
           count(*) FILTER (WHERE b.sex = 'F' AND (c.death_date IS NULL OR c.death_date > ref.d)) AS living_daughters,
           array_agg(DISTINCT o.hukou_type) FILTER (WHERE o.death_date IS NULL OR o.death_date > ref.d)
               AS co_parent_hukou,
           max(b.child_id) AS last_child_id,
           max(b.date) AS youngest_birth,
           max(m.birth_date) AS mother_birth_date
    FROM ref
    CROSS JOIN registry_birth b
    CROSS JOIN LATERAL (VALUES (b.mother_id, b.father_id), (b.father_id, b.mother_id)) AS x(parent_id, other_id)
    JOIN registry_person c ON c.id = b.child_id
    JOIN registry_person m ON m.id = b.mother_id
    LEFT JOIN registry_person o ON o.id = x.other_id
    WHERE x.parent_id IS NOT NULL AND b.date <= ref.d AND b.voided_at IS NULL
    GROUP BY x.parent_id
),"""

# Each person's spouse on the reference date: the other party of the latest live marriage event on or before
# it, if that event is a marriage and the spouse is alive (a divorce or a death leaves no spouse). Joined only
# by rules that ask about the spouse.
_SPOUSE_CTE = """
spouse AS (
    SELECT DISTINCT ON (y.person_id) y.person_id,
           CASE WHEN mm.kind = 'marriage' AND (s.death_date IS NULL OR s.death_date > ref.d)
                THEN s.hukou_type END AS hukou
    FROM ref
    CROSS JOIN registry_marriage mm
    CROSS JOIN LATERAL (VALUES (mm.wife_id, mm.husband_id), (mm.husband_id, mm.wife_id)) AS y(person_id, other_id)
    JOIN registry_person s ON s.id = y.other_id
    WHERE mm.voided_at IS NULL AND mm.date <= ref.d
    ORDER BY y.person_id, mm.date DESC, mm.id DESC
),"""


def _uses_spouse(rules: list) -> bool:
    return any(spec.get("code") == "spouse_hukou" for rule in rules for spec in (rule.predicates or []))


def roster_fill_sql(*, rules: list, subject: str) -> str:
    """The one statement that fills every township's roster of a programme and period.

    Parameters: ``ref`` (the reference date), ``low``/``high`` (the county's code range), ``programme``,
    ``period`` and ``previous`` (the period before, whose beneficiaries are new/continuing/leaving against).
    """
    if not rules:
        raise RuleViolation("该期间没有有效的资格规则", field="period", code="no_rules")
    candidates = " UNION ALL ".join(_rule_select(rule, subject=subject) for rule in rules)
    return f"""
WITH ref AS (SELECT %(ref)s::date AS d),
{_FAMILY_CTE if subject == PARENT else ""}
{_SPOUSE_CTE if subject == PARENT and _uses_spouse(rules) else ""}
cand AS ({candidates}),
best AS (
    SELECT DISTINCT ON (person_id) * FROM cand
    ORDER BY person_id, ok DESC, cardinality(fails), priority, rule_id
),
prev AS (
    SELECT e.person_id, e.payee_id, e.village_id, r.township_id
    FROM subsidies_rosterentry e JOIN subsidies_roster r ON r.id = e.roster_id
    WHERE r.programme_id = %(programme)s AND r.period = %(previous)s AND e.change <> 'leaving'
      AND r.township_id >= %(low)s AND r.township_id < %(high)s
),
cur AS (SELECT best.*, substr(best.village_id, 1, 9) || '000' AS township_id FROM best WHERE ok),
decided AS (
    SELECT cur.person_id, cur.payee_id, cur.village_id, cur.township_id, cur.rule_id, cur.category, cur.amount,
           CASE WHEN prev.person_id IS NULL THEN 'new' ELSE 'continuing' END AS change, cur.passes AS reason_codes
    FROM cur LEFT JOIN prev ON prev.person_id = cur.person_id AND prev.township_id = cur.township_id
    UNION ALL
    SELECT prev.person_id, prev.payee_id, prev.village_id, prev.township_id, NULL, '', 0, 'leaving',
           CASE WHEN cur.person_id IS NOT NULL THEN ARRAY['moved_township']::varchar[]
                WHEN best.person_id IS NOT NULL THEN best.fails
                ELSE ARRAY['not_found']::varchar[] END
    FROM prev
    LEFT JOIN cur ON cur.person_id = prev.person_id
    LEFT JOIN best ON best.person_id = prev.person_id
    WHERE cur.person_id IS NULL OR cur.township_id <> prev.township_id
)
INSERT INTO subsidies_rosterentry
    (roster_id, person_id, payee_id, village_id, rule_id, category, amount, change, reason_codes)
SELECT r.id, d.person_id, d.payee_id, d.village_id, d.rule_id, d.category, d.amount, d.change, d.reason_codes
FROM decided d
JOIN subsidies_roster r ON r.programme_id = %(programme)s AND r.period = %(period)s AND r.township_id = d.township_id
"""  # noqa: S608


def reference_date(*, programme, start: date, end: date) -> date:
    return end if programme.reference_day == "end" else start
