"""The set-based SQL of a report run (DESIGN §6, §9; STYLE: Zulip analytics).

Three statements fill a run, whatever the number of areas:

1. ``VILLAGE_SQL``: every registry indicator for every village in scope, in one ``INSERT … SELECT``. Each
   indicator family is one ``GROUP BY`` on the village code: events (births, deaths) by the event's village;
   population, completeness and married women by residence at a date, computed once per person from the
   moves table (DESIGN §5: the destination of the latest move on or before the date; before the first move
   its origin; with no moves the current village).
2. ``SOURCE_SQL``: per registered source (fees, subsidies), its rows inserted from arrays.
3. ``ROLLUP_SQL``: townships (first 9 digits + ``000``) and the county (first 6 + ``000000``) from the summed
   numerators and denominators of their villages, never from averaging rates.
"""

from __future__ import annotations

from datetime import date

from apps.indicators.catalogue import INDICATORS, TIMELY_REGISTRATION_DAYS
from apps.registry.models import LONG_ACTING_METHODS, MarriageKind, PolicyStatus, Sex

# GB 11643 check digit: weights of the first 17 digits, and the check character for (sum mod 11).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def _valid_id_sql(col: str, birth_col: str, sex_col: str) -> str:
    """A resident ID number with the right check character whose birth date and sex digits agree with the
    person's (DESIGN §5), as SQL over ``col``."""
    weighted = " + ".join(f"substr({col}, {i + 1}, 1)::int * {w}" for i, w in enumerate(_ID_WEIGHTS))
    return (
        f"({col} IS NOT NULL AND {col} ~ '^[0-9]{{17}}[0-9X]$'"
        f" AND substr('{_ID_CHECK_CHARS}', mod({weighted}, 11) + 1, 1) = substr({col}, 18, 1)"
        f" AND substr({col}, 7, 8) = to_char({birth_col}, 'YYYYMMDD')"
        f" AND (mod(substr({col}, 17, 1)::int, 2) = 1) = ({sex_col} = '{Sex.MALE}'))"
    )


_COMPLETE = (
    _valid_id_sql("r.id_number", "r.birth_date", "r.sex")
    + " AND r.name <> '' AND r.sex IN ('M', 'F') AND r.household_id IS NOT NULL AND r.hukou_type <> ''"
)
_LONG_ACTING = ", ".join(f"'{m}'" for m in sorted(LONG_ACTING_METHODS))

# numerator, denominator of each registry indicator, over the per-village aggregates below.
_AVG_POP = "(coalesce(p0.n, 0) + coalesce(p1.n, 0)) / 2.0"
_FORMULAS: dict[str, tuple[str, str]] = {
    "births": ("coalesce(b.n, 0)", "1"),
    "deaths": ("coalesce(d.n, 0)", "1"),
    "population_end": ("coalesce(p1.n, 0)", "1"),
    "birth_rate": ("coalesce(b.n, 0)", _AVG_POP),
    "death_rate": ("coalesce(d.n, 0)", _AVG_POP),
    "natural_growth_rate": ("coalesce(b.n, 0) - coalesce(d.n, 0)", _AVG_POP),
    "sex_ratio_at_birth": ("coalesce(b.male, 0)", "coalesce(b.female, 0)"),
    "sex_ratio_parity2": ("coalesce(b.male2, 0)", "coalesce(b.female2, 0)"),
    "sex_ratio_parity3plus": ("coalesce(b.male3, 0)", "coalesce(b.female3, 0)"),
    "policy_compliance_rate": ("coalesce(b.in_policy, 0)", "coalesce(b.n, 0)"),
    "first_birth_rate": ("coalesce(b.order1, 0)", "coalesce(b.n, 0)"),
    "multi_birth_rate": ("coalesce(b.order3, 0)", "coalesce(b.n, 0)"),
    "married_wra": ("coalesce(w.married, 0)", "1"),
    "contraceptive_prevalence": ("coalesce(w.users, 0)", "coalesce(w.married, 0)"),
    "long_acting_share": ("coalesce(w.long_acting, 0)", "coalesce(w.users, 0)"),
    "record_completeness_rate": ("coalesce(p1.complete, 0)", "coalesce(p1.n, 0)"),
    "birth_registration_timeliness": ("coalesce(b.timely, 0)", "coalesce(b.n, 0)"),
}
REGISTRY_CODES = tuple(i.code for i in INDICATORS if not i.source)
assert set(_FORMULAS) == set(REGISTRY_CODES), "every registry indicator needs a formula"


def _catalogue_values() -> str:
    rows = ", ".join(f"('{i.code}', {'NULL' if i.scale is None else i.scale}::numeric)" for i in INDICATORS)
    return f"(VALUES {rows}) AS c(code, scale)"


def _value(num: str, den: str) -> str:
    return f"CASE WHEN c.scale IS NULL THEN {num} ELSE round({num} * c.scale / NULLIF({den}, 0), 6) END"


_UNPIVOT = ",\n        ".join(
    f"('{code}', ({num})::numeric, ({den})::numeric)" for code, (num, den) in _FORMULAS.items()
)

# The f-strings below interpolate only constants of this module (codes, formulas); values are parameters.
VILLAGE_SQL = f"""
WITH villages AS (
    SELECT code FROM areas_area WHERE level = 'village' AND code >= %(low)s AND code < %(high)s
),
mv AS (  -- per person: residence from moves at the day before the period and at its last day
    SELECT person_id,
        (array_agg(destination_code ORDER BY date DESC, id DESC) FILTER (WHERE date <= %(d0)s))[1] AS dest0,
        (array_agg(destination_code ORDER BY date DESC, id DESC) FILTER (WHERE date <= %(d1)s))[1] AS dest1,
        (array_agg(origin_code ORDER BY date, id))[1] AS origin
    FROM registry_move GROUP BY person_id
),
r AS MATERIALIZED (  -- population at a date: born on or before it, not dead on or before it, resident (§6)
    SELECT p.id, p.sex, p.birth_date, p.id_number, p.name, p.household_id, p.hukou_type,
        CASE WHEN p.birth_date <= %(d0)s AND (p.death_date IS NULL OR p.death_date > %(d0)s)
             THEN coalesce(mv.dest0, mv.origin, p.village_id) END AS code0,
        CASE WHEN p.birth_date <= %(d1)s AND (p.death_date IS NULL OR p.death_date > %(d1)s)
             THEN coalesce(mv.dest1, mv.origin, p.village_id) END AS code1
    FROM registry_person p LEFT JOIN mv ON mv.person_id = p.id
    WHERE p.birth_date <= %(d1)s
),
p0 AS (
    SELECT code0 AS code, count(*) AS n FROM r WHERE code0 >= %(low)s AND code0 < %(high)s GROUP BY code0
),
p1 AS (
    SELECT code1 AS code, count(*) AS n, count(*) FILTER (WHERE {_COMPLETE}) AS complete
    FROM r WHERE code1 >= %(low)s AND code1 < %(high)s GROUP BY code1
),
b AS (  -- births dated in the period, at the birth's village
    SELECT village_id AS code, count(*) AS n,
        count(*) FILTER (WHERE sex = '{Sex.MALE}') AS male,
        count(*) FILTER (WHERE sex = '{Sex.FEMALE}') AS female,
        count(*) FILTER (WHERE sex = '{Sex.MALE}' AND birth_order = 2) AS male2,
        count(*) FILTER (WHERE sex = '{Sex.FEMALE}' AND birth_order = 2) AS female2,
        count(*) FILTER (WHERE sex = '{Sex.MALE}' AND birth_order >= 3) AS male3,
        count(*) FILTER (WHERE sex = '{Sex.FEMALE}' AND birth_order >= 3) AS female3,
        count(*) FILTER (WHERE policy_status = '{PolicyStatus.IN_POLICY}') AS in_policy,
        count(*) FILTER (WHERE birth_order = 1) AS order1,
        count(*) FILTER (WHERE birth_order >= 3) AS order3,
        count(*) FILTER (WHERE entered_on <= date + {TIMELY_REGISTRATION_DAYS}) AS timely
    FROM registry_birth
    WHERE date >= %(start)s AND date <= %(d1)s AND village_id >= %(low)s AND village_id < %(high)s
    GROUP BY village_id
),
d AS (  -- deaths dated in the period, at the death's village
    SELECT village_id AS code, count(*) AS n FROM registry_death
    WHERE date >= %(start)s AND date <= %(d1)s AND village_id >= %(low)s AND village_id < %(high)s
    GROUP BY village_id
),
lm AS (  -- each woman's latest marriage event on or before the last day: married unless it is a divorce
    SELECT DISTINCT ON (wife_id) wife_id, husband_id, kind FROM registry_marriage
    WHERE date <= %(d1)s ORDER BY wife_id, date DESC, id DESC
),
cu AS (  -- methods in use on the last day (a use ends on its end date: a new method closes the old one)
    SELECT person_id, bool_or(method IN ({_LONG_ACTING})) AS long_acting FROM registry_contraceptiveuse
    WHERE start_date <= %(d1)s AND (end_date IS NULL OR end_date > %(d1)s) GROUP BY person_id
),
w AS (  -- married women aged 15–49 resident on the last day; a method of either spouse counts
    SELECT r.code1 AS code, count(*) AS married,
        count(*) FILTER (WHERE cw.person_id IS NOT NULL OR ch.person_id IS NOT NULL) AS users,
        count(*) FILTER (WHERE coalesce(cw.long_acting, false) OR coalesce(ch.long_acting, false)) AS long_acting
    FROM r JOIN lm ON lm.wife_id = r.id AND lm.kind = '{MarriageKind.MARRIAGE}'
    LEFT JOIN cu cw ON cw.person_id = r.id
    LEFT JOIN cu ch ON ch.person_id = lm.husband_id
    WHERE r.code1 >= %(low)s AND r.code1 < %(high)s AND r.sex = '{Sex.FEMALE}'
        AND r.birth_date >= %(wra_oldest)s AND r.birth_date <= %(wra_youngest)s
    GROUP BY r.code1
)
INSERT INTO indicators_indicatorvalue (run_id, area_id, indicator_code, numerator, denominator, value)
SELECT %(run)s, v.code, x.code, x.num, x.den, {_value("x.num", "x.den")}
FROM villages v
LEFT JOIN b ON b.code = v.code
LEFT JOIN d ON d.code = v.code
LEFT JOIN p0 ON p0.code = v.code
LEFT JOIN p1 ON p1.code = v.code
LEFT JOIN w ON w.code = v.code
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

ROLLUP_SQL = f"""
INSERT INTO indicators_indicatorvalue (run_id, area_id, indicator_code, numerator, denominator, value)
SELECT %(run)s, g.code, g.indicator_code, g.num, CASE WHEN c.scale IS NULL THEN 1 ELSE g.den END,
    {_value("g.num", "g.den")}
FROM (
    SELECT substr(area_id, 1, 9) || '000' AS code, indicator_code, sum(numerator) AS num, sum(denominator) AS den
    FROM indicators_indicatorvalue WHERE run_id = %(run)s GROUP BY 1, 2
    UNION ALL
    SELECT substr(area_id, 1, 6) || '000000', indicator_code, sum(numerator), sum(denominator)
    FROM indicators_indicatorvalue WHERE run_id = %(run)s GROUP BY 1, 2
) AS g
JOIN areas_area a ON a.code = g.code AND a.code >= %(low)s AND a.code < %(high)s
JOIN {_catalogue_values()} ON c.code = g.indicator_code
"""  # noqa: S608


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def wra_birth_bounds(on: date) -> tuple[date, date]:
    """Birth dates of women aged 15–49 on ``on`` (育龄妇女), as the registry's selector counts them."""
    from datetime import timedelta

    return _years_before(on, 50) + timedelta(days=1), _years_before(on, 15)
