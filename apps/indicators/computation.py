"""The set-based SQL of a report run (DESIGN §6, §9; STYLE: Zulip analytics).

Three statements fill a run, whatever the number of areas:

1. ``VILLAGE_SQL``: every registry indicator for every village in scope, in one ``INSERT … SELECT``. Each
   indicator family is one ``GROUP BY`` on the village code: events (births, deaths) by the event's village;
   population, its age groups, completeness and married women by residence at a date, computed once per
   person from the moves table by the registry's own rule (``registry.rules.residence_by_person_sql``); voided
   events, external persons and retired duplicate records count for nothing. Ages are counted against
   thresholds of birth dates computed once per run (``age_thresholds``), never per person in Python.
2. ``SOURCE_SQL``: per registered source (fees, subsidies), its rows inserted from arrays.
3. ``NOT_APPLICABLE_SQL`` (only when an indicator's assessment ended before the period): its village rows
   become 不适用 (no value, 0 over 0, with the reason).
4. ``ROLLUP_SQL``: townships (first 9 digits + ``000``) and the county (first 6 + ``000000``) from the summed
   numerators and denominators of their villages, never from averaging rates; and the total fertility rate of
   every area, villages included, from its stored age-specific components (summed for a parent).

Every figure down to its records (指标明细, issue 17). Each figure's numerator and denominator are declared
once, in ``FIGURES``, as sums of record sets (``birth``, ``death``, ``resident0``/``resident1``: persons living in
a village on the day before the period and on its last day, ``source``: a registered source's records) under a
named condition of ``CONDITIONS``. ``VILLAGE_SQL`` counts those conditions (``count(*) FILTER``) over one row per
record (the CTEs ``be``, ``de``, ``r``), and ``records_sql`` lists the records of one figure from the very same
CTEs and conditions: the list is the figure's definition, not a second query written to agree with it. The
births and deaths a run counted are kept with the run (``indicators_countedrecord``, written by the same
statement), so that a past figure lists the events as they were counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apps.indicators.catalogue import ASFR_CODES, DERIVED_CODES, FERTILITY_AGE_GROUPS, INDICATORS, TFR_CODE
from apps.registry.models import LONG_ACTING_METHODS, MarriageKind, PolicyStatus, Sex
from apps.registry.rules import age_threshold, residence_by_person_sql, residence_coalesce

# GB 11643 check digit: weights of the first 17 digits, and the check character for (sum mod 11).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def _valid_id_sql(col: str, id_bytes: str, birth_col: str, sex_col: str) -> str:
    """A resident ID number with the right check character whose birth date and sex digits agree with the
    person's (DESIGN §5), as SQL over ``col`` and ``id_bytes`` (``textsend(col)``, computed once per row).

    The person_id_number_format constraint makes every stored number 18 ASCII characters (17 digits and a
    digit or X), so the check digits are read as bytes: ``get_byte`` minus 48 ('0'), one cheap call per digit,
    where ``substr(col, i, 1)::int`` cut and parsed a string per digit (most of the run's time at 600,000
    persons)."""
    weighted = " + ".join(f"get_byte({id_bytes}, {i}) * {w}" for i, w in enumerate(_ID_WEIGHTS))
    ascii_zeros = ord("0") * sum(_ID_WEIGHTS)
    return (
        f"({col} IS NOT NULL"
        f" AND get_byte({id_bytes}, 17) = get_byte('{_ID_CHECK_CHARS}'::bytea, mod({weighted} - {ascii_zeros}, 11))"
        f" AND substr({col}, 7, 8) = to_char({birth_col}, 'YYYYMMDD')"
        # the 17th digit is odd for a man: an ASCII digit's byte has the digit's parity
        f" AND (mod(get_byte({id_bytes}, 16), 2) = 1) = ({sex_col} = '{Sex.MALE}'))"
    )


_COMPLETE = (
    _valid_id_sql("p.id_number", "idb.b", "p.birth_date", "p.sex")
    + " AND p.name <> '' AND p.sex IN ('M', 'F') AND p.household_id IS NOT NULL AND p.hukou_type <> ''"
)
_LONG_ACTING = ", ".join(f"'{m}'" for m in sorted(LONG_ACTING_METHODS))

# Age bands on the last day, as ``width_bucket(birth_date, thresholds)`` over the birth dates at which a person
# stops being 65, 60, 15 and 3 or older: 0 = 65+, 1 = 60–64, 2 = 15–59, 3 = 3–14, 4 = 0–2.
_AGE_BAND_YEARS = (65, 60, 15, 3)
# Women's 5-year groups on a date: width_bucket over the thresholds of ages 50, 45, …, 15 gives 1 for 45–49 …
# 7 for 15–19 (0: 50+, 8: under 15); ``8 - bucket`` numbers the groups 1 (15–19) … 7 (45–49) like mothers'.
_WOMEN_GROUP_YEARS = tuple(range(50, 10, -5))
_GROUPS = range(1, len(FERTILITY_AGE_GROUPS) + 1)
# A mother's group at the birth: width_bucket of her age (PostgreSQL's age(), completed years) over 15, 20, … 50.
_MOTHER_AGE_EDGES = ", ".join(str(low) for low, _ in FERTILITY_AGE_GROUPS) + f", {FERTILITY_AGE_GROUPS[-1][1] + 1}"


def age_thresholds(*, d0: date, d1: date) -> dict[str, list[date]]:
    """The birth-date thresholds of a run's age groups (parameters of ``VILLAGE_SQL``), ascending."""
    return {
        "age_bands1": [age_threshold(d1, y) for y in _AGE_BAND_YEARS],
        "women_groups0": [age_threshold(d0, y) for y in _WOMEN_GROUP_YEARS],
        "women_groups1": [age_threshold(d1, y) for y in _WOMEN_GROUP_YEARS],
    }


# --- record sets and their named conditions (one definition for the counts and the lists) ---------------

# Conditions over one row of ``be`` (a birth counted: sex, birth_order, policy_status, assessed, timely,
# mother_group).
BIRTH_CONDITIONS: dict[str, str] = {
    "male": f"sex = '{Sex.MALE}'",
    "female": f"sex = '{Sex.FEMALE}'",
    "male2": f"sex = '{Sex.MALE}' AND birth_order = 2",
    "female2": f"sex = '{Sex.FEMALE}' AND birth_order = 2",
    "male3": f"sex = '{Sex.MALE}' AND birth_order >= 3",
    "female3": f"sex = '{Sex.FEMALE}' AND birth_order >= 3",
    # policy status is assessed up to the assessment end of 出生政策符合率 (none: every birth)
    "in_policy": f"policy_status = '{PolicyStatus.IN_POLICY}' AND assessed",
    "assessed": "assessed",
    "order1": "birth_order = 1",
    "order2": "birth_order = 2",
    "order3": "birth_order >= 3",
    "timely": "timely",
    **{f"m{k}": f"mother_group = {k}" for k in _GROUPS},
}
# Conditions over one row of ``r`` (a person), counted row by row into ``g``: the last day's.
RESIDENT_ROW_CONDITIONS: dict[str, str] = {
    "complete": "complete",
    "married": "married_wra",
    "users": "married_wra AND method_user",
    "long_acting": "married_wra AND long_acting",
}
# Conditions on ``g``'s grouping keys (age band on the last day, women's groups on each date).
RESIDENT1_KEY_CONDITIONS: dict[str, str] = {
    "age0_2": "band1 = 4",
    "age0_14": "band1 >= 3",
    "age15_64": "band1 IN (1, 2)",
    "age60": "band1 <= 1",
    "age65": "band1 = 0",
    **{f"w{k}": f"wg1 = {k}" for k in _GROUPS},
}
RESIDENT0_KEY_CONDITIONS: dict[str, str] = {f"w{k}": f"wg0 = {k}" for k in _GROUPS}
CONDITIONS: dict[str, dict[str, str]] = {
    "birth": BIRTH_CONDITIONS,
    "death": {},
    "resident0": RESIDENT0_KEY_CONDITIONS,
    "resident1": RESIDENT_ROW_CONDITIONS | RESIDENT1_KEY_CONDITIONS,
    "source": {"numerator": "num <> 0", "denominator": "den <> 0"},
}
RECORD_SETS = tuple(CONDITIONS)


@dataclass(frozen=True)
class Term:
    """The records of ``records`` meeting ``condition`` ("" = all of them), each counted ``sign`` times."""

    records: str
    condition: str = ""
    sign: int = 1


@dataclass(frozen=True)
class Side:
    """A numerator or denominator: the signed count of its terms' records over ``divisor`` (2: the average of
    the day before the period and its last day). No terms: the constant 1 (a count's denominator)."""

    terms: tuple[Term, ...] = ()
    divisor: int = 1

    def weight(self, term: Term) -> Decimal:
        """What one record of ``term`` adds to this side."""
        return Decimal(term.sign) / self.divisor


def _avg(*terms: Term) -> Side:
    return Side(terms, divisor=2)


BIRTHS, DEATHS = Term("birth"), Term("death")
_AVG_POPULATION = _avg(Term("resident0"), Term("resident1"))
_ONE = Side()
_R1 = Side((Term("resident1"),))


def _births(condition: str = "") -> Side:
    return Side((Term("birth", condition),))


def _resident1(condition: str) -> Side:
    return Side((Term("resident1", condition),))


def _avg_women(groups) -> Side:
    return _avg(*(Term("resident0", f"w{k}") for k in groups), *(Term("resident1", f"w{k}") for k in groups))


# numerator, denominator of each registry indicator (DESIGN §6).
FIGURES: dict[str, tuple[Side, Side]] = {
    "births": (_births(), _ONE),
    "deaths": (Side((DEATHS,)), _ONE),
    "population_end": (_R1, _ONE),
    "birth_rate": (_births(), _AVG_POPULATION),
    "death_rate": (Side((DEATHS,)), _AVG_POPULATION),
    "natural_growth_rate": (Side((BIRTHS, Term("death", sign=-1))), _AVG_POPULATION),
    "sex_ratio_at_birth": (_births("male"), _births("female")),
    "sex_ratio_parity2": (_births("male2"), _births("female2")),
    "sex_ratio_parity3plus": (_births("male3"), _births("female3")),
    "policy_compliance_rate": (_births("in_policy"), _births("assessed")),
    "first_birth_rate": (_births("order1"), _births()),
    "multi_birth_rate": (_births("order3"), _births()),
    "married_wra": (_resident1("married"), _ONE),
    "contraceptive_prevalence": (_resident1("users"), _resident1("married")),
    "long_acting_share": (_resident1("long_acting"), _resident1("users")),
    "record_completeness_rate": (_resident1("complete"), _R1),
    "birth_registration_timeliness": (_births("timely"), _births()),
    "second_birth_rate": (_births("order2"), _births()),
    "children_0_2": (_resident1("age0_2"), _ONE),
    "population_60plus": (_resident1("age60"), _ONE),
    "population_65plus": (_resident1("age65"), _ONE),
    "share_60plus": (_resident1("age60"), _R1),
    "share_65plus": (_resident1("age65"), _R1),
    "old_age_dependency_ratio": (_resident1("age65"), _resident1("age15_64")),
    "child_dependency_ratio": (_resident1("age0_14"), _resident1("age15_64")),
    "general_fertility_rate": (_births(), _avg_women(_GROUPS)),
    **{code: (_births(f"m{k}"), _avg_women([k])) for k, code in zip(_GROUPS, ASFR_CODES, strict=True)},
}
SOURCE_FIGURE = (Side((Term("source", "numerator"),)), Side((Term("source", "denominator"),)))
assert all(
    not t.condition or t.condition in CONDITIONS[t.records]
    for sides in (*FIGURES.values(), SOURCE_FIGURE)
    for side in sides
    for t in side.terms
), "every term names a condition of its record set"


def _column(term: Term) -> str:
    """The per-village aggregate column ``VILLAGE_SQL`` counts a term's records in."""
    if term.records == "birth":
        return f"b.{term.condition or 'n'}"
    if term.records == "death":
        return "d.n"
    day = term.records[-1]
    return f"pop.n{day}" if not term.condition else f"pop.r{day}_{term.condition}"


def _side_sql(side: Side) -> str:
    if not side.terms:
        return "1"
    sql = ""
    for i, term in enumerate(side.terms):
        sign = "-" if term.sign < 0 else ("+" if i else "")
        sql += f"{' ' if i else ''}{sign}{' ' if i else ''}coalesce({_column(term)}, 0)"
    return sql if side.divisor == 1 else f"({sql}) / {side.divisor}.0"


# Persons are grouped (g) by their age band on the last day and women's groups on both dates as well as by where
# they live; per village and date (pop), each age group sums the groups it covers.
_G_COUNTS = "".join(
    f",\n        count(*) FILTER (WHERE {cond}) AS c_{name}" for name, cond in RESIDENT_ROW_CONDITIONS.items()
)
_POP_COUNTS = "".join(
    f",\n        coalesce(sum(g.c_{name}) FILTER (WHERE at.day = 1), 0) AS r1_{name}"
    for name in RESIDENT_ROW_CONDITIONS
) + "".join(
    f",\n        coalesce(sum(g.n) FILTER (WHERE at.day = {day} AND {cond}), 0) AS r{day}_{name}"
    for day, conditions in ((1, RESIDENT1_KEY_CONDITIONS), (0, RESIDENT0_KEY_CONDITIONS))
    for name, cond in conditions.items()
)
_B_COUNTS = "".join(f",\n        count(*) FILTER (WHERE {cond}) AS {name}" for name, cond in BIRTH_CONDITIONS.items())
# The named conditions a counted birth meets, kept with the run (``indicators_countedrecord.conditions``).
_BIRTH_CONDITION_ARRAY = (
    "array_remove(ARRAY["
    + ", ".join(f"CASE WHEN {cond} THEN '{name}' END" for name, cond in BIRTH_CONDITIONS.items())
    + "]::text[], NULL)"
)

_FORMULAS: dict[str, tuple[str, str]] = {code: (_side_sql(n), _side_sql(d)) for code, (n, d) in FIGURES.items()}
REGISTRY_CODES = tuple(i.code for i in INDICATORS if not i.source and not i.components)
assert set(_FORMULAS) == set(REGISTRY_CODES), "every registry indicator needs a formula"


def _catalogue_values() -> str:
    rows = ", ".join(f"('{i.code}', {'NULL' if i.scale is None else i.scale}::numeric)" for i in INDICATORS)
    return f"(VALUES {rows}) AS c(code, scale)"


def _value(num: str, den: str) -> str:
    return f"CASE WHEN c.scale IS NULL THEN {num} ELSE round({num} * c.scale / NULLIF({den}, 0), 6) END"


_UNPIVOT = ",\n        ".join(
    f"('{code}', ({num})::numeric, ({den})::numeric)" for code, (num, den) in _FORMULAS.items()
)

# For this transaction only: the per-person aggregate fits in memory instead of spilling to disk, and a
# statement that runs once per report gains nothing from JIT compilation.
VILLAGE_SESSION_SETTINGS = "SET LOCAL work_mem = '128MB'; SET LOCAL jit = off"

# The f-strings below interpolate only constants of this module (codes, formulas); values are parameters.
# ruff: noqa: S608 - the SQL below interpolates only constants of this module (codes, conditions), never a value
# The CTEs below are the one definition of the record sets: ``VILLAGE_SQL`` counts them, ``records_sql`` lists
# them. The f-strings interpolate only constants of this module (codes, conditions); values are parameters.
_VILLAGES_CTE = """
villages AS (
    SELECT code FROM areas_area WHERE level = 'village' AND code >= %(low)s AND code < %(high)s
)"""

_RESIDENTS_CTE = f"""
mv AS (  -- per person who moved: residence on the day before the period and on its last day (registry rule)
    {residence_by_person_sql({"0": "%(d0)s", "1": "%(d1)s"})}
),
lm AS (  -- each woman's latest marriage event on or before the last day: married unless it is a divorce
    SELECT DISTINCT ON (wife_id) wife_id, husband_id, kind FROM registry_marriage
    WHERE date <= %(d1)s AND voided_at IS NULL ORDER BY wife_id, date DESC, id DESC
),
cu AS (  -- methods in use on the last day (a use ends on its end date: a new method closes the old one)
    SELECT person_id, bool_or(method IN ({_LONG_ACTING})) AS long_acting FROM registry_contraceptiveuse
    WHERE start_date <= %(d1)s AND voided_at IS NULL AND (end_date IS NULL OR end_date > %(d1)s) GROUP BY person_id
),
wm AS (  -- married women and the methods in use by either spouse
    SELECT lm.wife_id,
        (cw.person_id IS NOT NULL OR ch.person_id IS NOT NULL) AS method_user,
        (coalesce(cw.long_acting, false) OR coalesce(ch.long_acting, false)) AS long_acting
    FROM lm LEFT JOIN cu cw ON cw.person_id = lm.wife_id LEFT JOIN cu ch ON ch.person_id = lm.husband_id
    WHERE lm.kind = '{MarriageKind.MARRIAGE}'
),
r AS (  -- one row per person: where they live on both dates (if alive and born), what they count as
    SELECT p.id,
        CASE WHEN p.birth_date <= %(d0)s AND (p.death_date IS NULL OR p.death_date > %(d0)s)
             THEN {residence_coalesce(moves="mv", person="p", key="0")} END AS code0,
        CASE WHEN p.death_date IS NULL OR p.death_date > %(d1)s
             THEN {residence_coalesce(moves="mv", person="p", key="1")} END AS code1,
        {_COMPLETE} AS complete,
        (wm.wife_id IS NOT NULL AND p.birth_date >= %(wra_oldest)s AND p.birth_date <= %(wra_youngest)s
            AND p.sex = '{Sex.FEMALE}') AS married_wra,
        coalesce(wm.method_user, false) AS method_user,
        coalesce(wm.long_acting, false) AS long_acting,
        width_bucket(p.birth_date, %(age_bands1)s::date[]) AS band1,
        CASE WHEN p.sex = '{Sex.FEMALE}' THEN 8 - width_bucket(p.birth_date, %(women_groups0)s::date[]) END AS wg0,
        CASE WHEN p.sex = '{Sex.FEMALE}' THEN 8 - width_bucket(p.birth_date, %(women_groups1)s::date[]) END AS wg1
    FROM registry_person p
    LEFT JOIN mv ON mv.person_id = p.id
    LEFT JOIN wm ON wm.wife_id = p.id
    CROSS JOIN LATERAL (SELECT textsend(p.id_number) AS b OFFSET 0) AS idb  -- the ID number's bytes, once
    WHERE p.birth_date <= %(d1)s
      AND NOT p.is_external AND p.merged_into_id IS NULL  -- county residents only, each person once
)"""

_BIRTHS_CTE = f"""
be AS MATERIALIZED (  -- one row per birth counted: dated in the period, at a village of the run
    SELECT rb.id, rb.village_id AS code, rb.sex, rb.birth_order, rb.policy_status,
        (%(policy_end)s::date IS NULL OR rb.date <= %(policy_end)s) AS assessed,
        rb.entered_on <= rb.date + (  -- the registration deadline in force on the birth date
            SELECT dl.days FROM indicators_registrationdeadline dl
            WHERE dl.valid_from <= rb.date AND (dl.valid_to IS NULL OR dl.valid_to >= rb.date)
            ORDER BY dl.valid_from DESC LIMIT 1
        ) AS timely,
        -- the mother's 5-year group at the birth: width_bucket of her age in completed years
        width_bucket(extract(year FROM age(rb.date, m.birth_date))::int, ARRAY[{_MOTHER_AGE_EDGES}]) AS mother_group
    FROM registry_birth rb
    -- the mothers of the period's births by their key, not a pass over every person
    CROSS JOIN LATERAL (SELECT birth_date FROM registry_person WHERE id = rb.mother_id) AS m
    WHERE rb.date >= %(start)s AND rb.date <= %(d1)s AND rb.voided_at IS NULL
      AND rb.village_id >= %(low)s AND rb.village_id < %(high)s AND rb.village_id IN (SELECT code FROM villages)
)"""

_DEATHS_CTE = """
de AS MATERIALIZED (  -- one row per death counted: dated in the period, at a village of the run
    SELECT id, village_id AS code FROM registry_death
    WHERE date >= %(start)s AND date <= %(d1)s AND voided_at IS NULL AND village_id >= %(low)s
      AND village_id < %(high)s AND village_id IN (SELECT code FROM villages)
)"""

VILLAGE_SQL = f"""
WITH {_VILLAGES_CTE},{_RESIDENTS_CTE},{_BIRTHS_CTE},{_DEATHS_CTE},
g0 AS (  -- persons grouped by where they live on both dates and their age groups: a few dozen groups per village
    -- Two grouping keys that pack the five: the planner multiplies the keys' distinct counts (200 each for an
    -- expression), and with five it took the groups for millions and sorted every person on disk before
    -- grouping at 6,000,000 persons (27 s of the statement, issue 16); with two it hashes.
    SELECT coalesce(code0, '') || '|' || coalesce(code1, '') AS places,
        band1 * 100 + coalesce(wg0, 9) * 10 + coalesce(wg1, 9) AS ages, count(*) AS n{_G_COUNTS}
    FROM r GROUP BY 1, 2
),
g AS (  -- the same groups with their keys unpacked
    SELECT nullif(split_part(places, '|', 1), '') AS code0, nullif(split_part(places, '|', 2), '') AS code1,
        ages / 100 AS band1, nullif(mod(ages / 10, 10), 9) AS wg0, nullif(mod(ages, 10), 9) AS wg1, g0.*
    FROM g0
),
pop AS (  -- population on both dates (§6), women by age group on both; the rest on the last day
    SELECT at.code,
        coalesce(sum(g.n) FILTER (WHERE at.day = 0), 0) AS n0,
        coalesce(sum(g.n) FILTER (WHERE at.day = 1), 0) AS n1{_POP_COUNTS}
    FROM g CROSS JOIN LATERAL (VALUES (0, g.code0), (1, g.code1)) AS at(day, code)
    WHERE at.code >= %(low)s AND at.code < %(high)s
    GROUP BY at.code
),
b AS (  -- births by village and named condition
    SELECT code, count(*) AS n{_B_COUNTS} FROM be GROUP BY code
),
d AS (  -- deaths by village
    SELECT code, count(*) AS n FROM de GROUP BY code
),
kept AS (  -- the events this run counts, with the conditions each meets, kept with the run
    INSERT INTO indicators_countedrecord (run_id, kind, record_id, area_id, conditions)
    SELECT %(run)s, 'birth', id, code, {_BIRTH_CONDITION_ARRAY} FROM be
    UNION ALL
    SELECT %(run)s, 'death', id, code, '{{}}'::text[] FROM de
)
INSERT INTO indicators_indicatorvalue (run_id, area_id, indicator_code, numerator, denominator, value)
SELECT %(run)s, v.code, x.code, x.num, x.den, {_value("x.num", "x.den")}
FROM villages v
LEFT JOIN b ON b.code = v.code
LEFT JOIN d ON d.code = v.code
LEFT JOIN pop ON pop.code = v.code
CROSS JOIN LATERAL (VALUES
        {_UNPIVOT}
) AS x(code, num, den)
JOIN {_catalogue_values()} ON c.code = x.code
"""


def source_sql(records: str) -> str:
    """A registered source's values per village: the sums of its records (``records``: the source's SQL, one
    row per record with ``code``, ``num`` and ``den``, over ``%(start)s`` .. ``%(end)s``)."""
    return f"""
WITH src AS ({records})
INSERT INTO indicators_indicatorvalue (run_id, area_id, indicator_code, numerator, denominator, value)
SELECT %(run)s, s.code, %(indicator)s, sum(s.num), sum(s.den), {_value("sum(s.num)", "sum(s.den)")}
FROM src s
JOIN areas_area a ON a.code = s.code AND a.level = 'village' AND a.code >= %(low)s AND a.code < %(high)s
JOIN {_catalogue_values()} ON c.code = %(indicator)s
GROUP BY s.code, c.scale
"""


def run_parameters(*, run_id: int, period_code: str, low: str, high: str) -> dict:
    """The parameters of ``VILLAGE_SQL``, ``source_sql`` and ``records_sql`` for a run's period and the areas in
    ``low`` .. ``high``: the period's dates, the age thresholds, and the assessment end of 出生政策符合率 in
    force (dated data, issue 12)."""
    from apps.indicators.models import AssessmentEnd
    from apps.indicators.periods import period_parse
    from apps.registry.rules import wra_birth_bounds

    period = period_parse(period_code)
    policy_end = AssessmentEnd.objects.filter(indicator_code="policy_compliance_rate").first()
    oldest, youngest = wra_birth_bounds(period.end)
    return {
        "run": run_id,
        "low": low,
        "high": high,
        "start": period.start,
        "end": period.end,
        "d0": period.day_before_start,
        "d1": period.end,
        "wra_oldest": oldest,
        "wra_youngest": youngest,
        "policy_end": policy_end.last_date if policy_end else None,
        **age_thresholds(d0=period.day_before_start, d1=period.end),
    }


def figure_sides(indicator_code: str) -> tuple[Side, Side] | None:
    """The numerator and denominator of an indicator as record sets; None for a figure computed from other
    figures (the TFR, from the age-specific rates)."""
    if indicator_code in FIGURES:
        return FIGURES[indicator_code]
    if indicator_code in DERIVED_CODES:
        return None
    return SOURCE_FIGURE


def records_sql(side: Side, *, kept: bool, source: str | None = None) -> str:
    """The records behind one side of a figure, as ``(records, id, code, weight)`` rows whose weights sum to the
    stored numerator or denominator: the CTEs and named conditions ``VILLAGE_SQL`` counts, over the villages
    in ``%(low)s`` .. ``%(high)s``. ``kept``: the run's births and deaths as it counted them
    (``indicators_countedrecord``), else as the registry has them now; ``source``: a source's records SQL."""
    selects, ctes = [], ["WITH" + _VILLAGES_CTE]
    for term in side.terms:
        cond = CONDITIONS[term.records][term.condition] if term.condition else "TRUE"
        weight = f"{side.weight(term)}::numeric"
        if term.records in ("birth", "death") and kept:
            flag = f"AND '{term.condition}' = ANY(conditions)" if term.condition else ""
            selects.append(
                f"SELECT '{term.records}' AS records, record_id AS id, area_id AS code, {weight} AS weight"
                f" FROM indicators_countedrecord WHERE run_id = %(run)s AND kind = '{term.records}'"
                f" AND area_id IN (SELECT code FROM villages) {flag}"
            )
        elif term.records == "birth":
            ctes.append(_BIRTHS_CTE)
            selects.append(f"SELECT 'birth', id, code, {weight} FROM be WHERE {cond}")
        elif term.records == "death":
            ctes.append(_DEATHS_CTE)
            selects.append(f"SELECT 'death', id, code, {weight} FROM de")
        elif term.records in ("resident0", "resident1"):
            day = term.records[-1]
            if _RESIDENTS_CTE not in ctes:
                ctes.append(_RESIDENTS_CTE)
            selects.append(
                f"SELECT '{term.records}', id, code{day}, {weight} FROM r"
                f" WHERE code{day} IN (SELECT code FROM villages) AND {cond}"
            )
        else:  # a registered source: each record weighs its amount
            ctes.append(f"\nsrc AS ({source})")
            amount = "num" if term.condition == "numerator" else "den"
            selects.append(
                f"SELECT 'source', record_id, code, {amount} FROM src"
                f" WHERE code IN (SELECT code FROM villages) AND {cond}"
            )
    if not selects:
        return ""
    return ",".join(dict.fromkeys(ctes)) + "\n" + "\nUNION ALL\n".join(selects)


NOT_APPLICABLE_SQL = """
UPDATE indicators_indicatorvalue v SET numerator = 0, denominator = 0, value = NULL, not_applicable = na.reason
FROM unnest(%(codes)s::text[], %(reasons)s::text[]) AS na(code, reason)
WHERE v.run_id = %(run)s AND v.indicator_code = na.code
"""

_ASFR_ARRAY = "ARRAY[" + ", ".join(f"'{c}'" for c in ASFR_CODES) + "]"
_DERIVED_ARRAY = "ARRAY[" + ", ".join(f"'{c}'" for c in DERIVED_CODES) + "]"

ROLLUP_SQL = f"""
-- ``s`` MATERIALIZED: the villages' rows were written by this run, so the planner's statistics say the run has
-- none and it would re-aggregate them for every area of the join (4.7 s at 600,000 persons, issue 16).
WITH s AS MATERIALIZED (  -- townships and the county: the summed numerators and denominators of their villages
    SELECT substr(area_id, 1, 9) || '000' AS code, indicator_code, sum(numerator) AS num, sum(denominator) AS den,
        max(not_applicable) AS na
    FROM indicators_indicatorvalue WHERE run_id = %(run)s GROUP BY 1, 2
    UNION ALL
    SELECT substr(area_id, 1, 6) || '000000', indicator_code, sum(numerator), sum(denominator), max(not_applicable)
    FROM indicators_indicatorvalue WHERE run_id = %(run)s GROUP BY 1, 2
),
parents AS (
    SELECT s.* FROM s JOIN areas_area a ON a.code = s.code AND a.code >= %(low)s AND a.code < %(high)s
),
components AS (  -- the TFR's age groups of every area: the villages' stored rows, the parents' sums
    SELECT area_id AS code, indicator_code, numerator AS num, denominator AS den
    FROM indicators_indicatorvalue WHERE run_id = %(run)s AND indicator_code = ANY({_ASFR_ARRAY})
    UNION ALL
    SELECT code, indicator_code, num, den FROM parents WHERE indicator_code = ANY({_ASFR_ARRAY})
),
tfr AS (  -- 5 × the sum of the age-specific rates, as births per 1000 women over 1000 (an age group with no
          -- women has no rate and adds nothing; with none at all, no TFR)
    SELECT code, '{TFR_CODE}' AS indicator_code,
        coalesce(5 * sum(1000 * num / den) FILTER (WHERE den > 0), 0) AS num,
        CASE WHEN bool_or(den > 0) THEN 1000 ELSE 0 END AS den, '' AS na
    FROM components GROUP BY code
)
INSERT INTO indicators_indicatorvalue (run_id, area_id, indicator_code, numerator, denominator, value, not_applicable)
SELECT %(run)s, g.code, g.indicator_code, g.num, CASE WHEN c.scale IS NULL THEN 1 ELSE g.den END,
    {_value("g.num", "g.den")}, g.na
FROM (
    SELECT * FROM parents WHERE indicator_code <> ALL({_DERIVED_ARRAY})
    UNION ALL
    SELECT * FROM tfr
) AS g
JOIN {_catalogue_values()} ON c.code = g.indicator_code
"""
