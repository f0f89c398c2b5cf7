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
"""

from __future__ import annotations

from datetime import date

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


def _avg_women(groups) -> str:
    day0 = " + ".join(f"coalesce(pop.w0_{k}, 0)" for k in groups)
    day1 = " + ".join(f"coalesce(pop.w1_{k}, 0)" for k in groups)
    return f"({day0} + {day1}) / 2.0"


# Persons are grouped (g) by their age band on the last day and women's groups on both dates as well as by where
# they live; per village and date (pop), each age group sums the groups it covers.
_AGE_COUNTS = {  # name: (condition on g's keys, the date it counts on)
    "age0_2": ("g.band1 = 4", 1),
    "age0_14": ("g.band1 >= 3", 1),
    "age15_64": ("g.band1 IN (1, 2)", 1),
    "age60": ("g.band1 <= 1", 1),
    "age65": ("g.band1 = 0", 1),
    **{f"w{day}_{k}": (f"g.wg{day} = {k}", day) for day in (0, 1) for k in _GROUPS},
}
_POP_AGES = "".join(
    f",\n        coalesce(sum(g.n) FILTER (WHERE at.day = {day} AND {cond}), 0) AS {name}"
    for name, (cond, day) in _AGE_COUNTS.items()
)

_B_MOTHER_AGES = "".join(
    f",\n        count(*) FILTER (WHERE width_bucket(extract(year FROM age(rb.date, m.birth_date))::int,"
    f" ARRAY[{_MOTHER_AGE_EDGES}]) = {k}) AS m{k}"
    for k in _GROUPS
)

# numerator, denominator of each registry indicator, over the per-village aggregates below.
_AVG_POP = "(coalesce(pop.n0, 0) + coalesce(pop.n1, 0)) / 2.0"
_FORMULAS: dict[str, tuple[str, str]] = {
    "births": ("coalesce(b.n, 0)", "1"),
    "deaths": ("coalesce(d.n, 0)", "1"),
    "population_end": ("coalesce(pop.n1, 0)", "1"),
    "birth_rate": ("coalesce(b.n, 0)", _AVG_POP),
    "death_rate": ("coalesce(d.n, 0)", _AVG_POP),
    "natural_growth_rate": ("coalesce(b.n, 0) - coalesce(d.n, 0)", _AVG_POP),
    "sex_ratio_at_birth": ("coalesce(b.male, 0)", "coalesce(b.female, 0)"),
    "sex_ratio_parity2": ("coalesce(b.male2, 0)", "coalesce(b.female2, 0)"),
    "sex_ratio_parity3plus": ("coalesce(b.male3, 0)", "coalesce(b.female3, 0)"),
    "policy_compliance_rate": ("coalesce(b.in_policy, 0)", "coalesce(b.assessed, 0)"),
    "first_birth_rate": ("coalesce(b.order1, 0)", "coalesce(b.n, 0)"),
    "multi_birth_rate": ("coalesce(b.order3, 0)", "coalesce(b.n, 0)"),
    "married_wra": ("coalesce(pop.married, 0)", "1"),
    "contraceptive_prevalence": ("coalesce(pop.users, 0)", "coalesce(pop.married, 0)"),
    "long_acting_share": ("coalesce(pop.long_acting, 0)", "coalesce(pop.users, 0)"),
    "record_completeness_rate": ("coalesce(pop.complete, 0)", "coalesce(pop.n1, 0)"),
    "birth_registration_timeliness": ("coalesce(b.timely, 0)", "coalesce(b.n, 0)"),
    "second_birth_rate": ("coalesce(b.order2, 0)", "coalesce(b.n, 0)"),
    "children_0_2": ("coalesce(pop.age0_2, 0)", "1"),
    "population_60plus": ("coalesce(pop.age60, 0)", "1"),
    "population_65plus": ("coalesce(pop.age65, 0)", "1"),
    "share_60plus": ("coalesce(pop.age60, 0)", "coalesce(pop.n1, 0)"),
    "share_65plus": ("coalesce(pop.age65, 0)", "coalesce(pop.n1, 0)"),
    "old_age_dependency_ratio": ("coalesce(pop.age65, 0)", "coalesce(pop.age15_64, 0)"),
    "child_dependency_ratio": ("coalesce(pop.age0_14, 0)", "coalesce(pop.age15_64, 0)"),
    "general_fertility_rate": ("coalesce(b.n, 0)", _avg_women(_GROUPS)),
    **{code: (f"coalesce(b.m{k}, 0)", _avg_women([k])) for k, code in zip(_GROUPS, ASFR_CODES, strict=True)},
}
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
VILLAGE_SQL = f"""
WITH villages AS (
    SELECT code FROM areas_area WHERE level = 'village' AND code >= %(low)s AND code < %(high)s
),
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
    SELECT
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
),
g AS (  -- persons grouped by where they live on both dates and their age groups: a few dozen groups per village
    SELECT code0, code1, band1, wg0, wg1, count(*) AS n,
        count(*) FILTER (WHERE complete) AS complete,
        count(*) FILTER (WHERE married_wra) AS married,
        count(*) FILTER (WHERE married_wra AND method_user) AS users,
        count(*) FILTER (WHERE married_wra AND long_acting) AS long_acting
    FROM r GROUP BY code0, code1, band1, wg0, wg1
),
pop AS (  -- population on both dates (§6), women by age group on both; the rest on the last day
    SELECT at.code,
        coalesce(sum(g.n) FILTER (WHERE at.day = 0), 0) AS n0,
        coalesce(sum(g.n) FILTER (WHERE at.day = 1), 0) AS n1,
        coalesce(sum(g.complete) FILTER (WHERE at.day = 1), 0) AS complete,
        coalesce(sum(g.married) FILTER (WHERE at.day = 1), 0) AS married,
        coalesce(sum(g.users) FILTER (WHERE at.day = 1), 0) AS users,
        coalesce(sum(g.long_acting) FILTER (WHERE at.day = 1), 0) AS long_acting{_POP_AGES}
    FROM g CROSS JOIN LATERAL (VALUES (0, g.code0), (1, g.code1)) AS at(day, code)
    WHERE at.code >= %(low)s AND at.code < %(high)s
    GROUP BY at.code
),
b AS (  -- births dated in the period, at the birth's village; mothers' age groups at the birth
    SELECT rb.village_id AS code, count(*) AS n,
        count(*) FILTER (WHERE rb.sex = '{Sex.MALE}') AS male,
        count(*) FILTER (WHERE rb.sex = '{Sex.FEMALE}') AS female,
        count(*) FILTER (WHERE rb.sex = '{Sex.MALE}' AND rb.birth_order = 2) AS male2,
        count(*) FILTER (WHERE rb.sex = '{Sex.FEMALE}' AND rb.birth_order = 2) AS female2,
        count(*) FILTER (WHERE rb.sex = '{Sex.MALE}' AND rb.birth_order >= 3) AS male3,
        count(*) FILTER (WHERE rb.sex = '{Sex.FEMALE}' AND rb.birth_order >= 3) AS female3,
        -- policy status is assessed up to the assessment end of 出生政策符合率 (none: every birth)
        count(*) FILTER (WHERE rb.policy_status = '{PolicyStatus.IN_POLICY}'
                         AND (%(policy_end)s::date IS NULL OR rb.date <= %(policy_end)s)) AS in_policy,
        count(*) FILTER (WHERE %(policy_end)s::date IS NULL OR rb.date <= %(policy_end)s) AS assessed,
        count(*) FILTER (WHERE rb.birth_order = 1) AS order1,
        count(*) FILTER (WHERE rb.birth_order = 2) AS order2,
        count(*) FILTER (WHERE rb.birth_order >= 3) AS order3,
        count(*) FILTER (WHERE rb.entered_on <= rb.date + (  -- the registration deadline in force on the birth date
            SELECT dl.days FROM indicators_registrationdeadline dl
            WHERE dl.valid_from <= rb.date AND (dl.valid_to IS NULL OR dl.valid_to >= rb.date)
            ORDER BY dl.valid_from DESC LIMIT 1
        )) AS timely{_B_MOTHER_AGES}
    FROM registry_birth rb
    -- the mothers of the period's births by their key, not a pass over every person
    CROSS JOIN LATERAL (SELECT birth_date FROM registry_person WHERE id = rb.mother_id) AS m
    WHERE rb.date >= %(start)s AND rb.date <= %(d1)s AND rb.voided_at IS NULL
      AND rb.village_id >= %(low)s AND rb.village_id < %(high)s
    GROUP BY rb.village_id
),
d AS (  -- deaths dated in the period, at the death's village
    SELECT village_id AS code, count(*) AS n FROM registry_death
    WHERE date >= %(start)s AND date <= %(d1)s AND voided_at IS NULL AND village_id >= %(low)s AND village_id < %(high)s
    GROUP BY village_id
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
"""  # noqa: S608

SOURCE_SQL = f"""
INSERT INTO indicators_indicatorvalue (run_id, area_id, indicator_code, numerator, denominator, value)
SELECT %(run)s, s.code, %(indicator)s, sum(s.num), sum(s.den), {_value("sum(s.num)", "sum(s.den)")}
FROM unnest(%(codes)s::text[], %(nums)s::numeric[], %(dens)s::numeric[]) AS s(code, num, den)
JOIN areas_area a ON a.code = s.code AND a.level = 'village' AND a.code >= %(low)s AND a.code < %(high)s
JOIN {_catalogue_values()} ON c.code = %(indicator)s
GROUP BY s.code, c.scale
"""  # noqa: S608

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
"""  # noqa: S608
