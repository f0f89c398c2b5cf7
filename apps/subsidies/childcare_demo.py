"""Demo 育儿补贴申领 for ``seed_demo`` and the benchmark: set-based, deterministic (by ids).

For nine in ten children born since 2022 whose birth is registered, an application by the mother — by the
father when she has died — made within two months of the later of the birth and the scheme's start, with a
passbook account for each applicant who has no active account. Children whose applicant is dead too get
none; the rest apply late or not at all, as in a real county.
"""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction

from apps.registry.rules import hukou_at_sql

_CANDIDATES = """
CREATE TEMP TABLE demo_childcare ON COMMIT DROP AS
WITH prog AS (
    SELECT p.id, (SELECT min(r.valid_from) FROM subsidies_programmerule r WHERE r.programme_id = p.id) AS first_day
    FROM subsidies_programme p WHERE p.by_application AND p.is_active ORDER BY p.code LIMIT 1
), cand AS (
    SELECT prog.id AS programme_id, b.child_id,
           CASE WHEN m.death_date IS NULL THEN b.mother_id ELSE b.father_id END AS applicant_id,
           CASE WHEN m.death_date IS NULL THEN 'mother' ELSE 'father' END AS relationship,
           least(greatest(b.date, prog.first_day) + (b.child_id %% 60)::int, %(as_of)s::date) AS applied_on
    FROM prog
    JOIN registry_birth b ON b.date >= (prog.first_day - interval '3 years')::date AND b.voided_at IS NULL
    JOIN registry_person c ON c.id = b.child_id
    JOIN registry_person m ON m.id = b.mother_id
    LEFT JOIN registry_person f ON f.id = b.father_id
    WHERE b.child_id %% 10 <> 0 AND NOT c.is_external AND c.merged_into_id IS NULL AND c.id_number IS NOT NULL
      AND greatest(b.date, prog.first_day) <= %(as_of)s::date
      AND (m.death_date IS NULL OR (f.id IS NOT NULL AND f.death_date IS NULL))
)
SELECT cand.*, coalesce(v.code, c.village_id) AS village_id
FROM cand
JOIN registry_person c ON c.id = cand.child_id
LEFT JOIN areas_area v ON v.code = {hukou} AND v.level = 'village'
"""

_ACCOUNTS = """
INSERT INTO subsidies_bankaccount (person_id, village_id, kind, bank_name, account_number, is_active, created_at)
SELECT DISTINCT ON (d.applicant_id) d.applicant_id, p.village_id, 'passbook', '农村信用社',
       '8' || lpad(d.applicant_id::text, 15, '0'), true, now()
FROM demo_childcare d JOIN registry_person p ON p.id = d.applicant_id
WHERE NOT EXISTS (SELECT 1 FROM subsidies_bankaccount a WHERE a.person_id = d.applicant_id AND a.is_active)
ORDER BY d.applicant_id
"""

_APPLICATIONS = """
INSERT INTO subsidies_childcareapplication
    (programme_id, child_id, applicant_id, relationship, guardian_basis, applied_on, account_id, village_id, status,
     status_reason, created_at)
SELECT d.programme_id, d.child_id, d.applicant_id, d.relationship, '', d.applied_on, a.id, d.village_id, 'active', '',
       now()
FROM demo_childcare d JOIN subsidies_bankaccount a ON a.person_id = d.applicant_id AND a.is_active
ON CONFLICT DO NOTHING
"""


def childcare_demo_applications(*, as_of: date) -> int:
    """Returns the number of applications written (none when there is no 育儿补贴 programme)."""
    # Inside seed_demo's own audit context (a nested one would rewrite that context's reason).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CANDIDATES.format(hukou=hukou_at_sql(person="c", on="cand.applied_on")), {"as_of": as_of})
        cursor.execute(_ACCOUNTS)
        cursor.execute(_APPLICATIONS)
        written = cursor.rowcount
        cursor.execute("DROP TABLE demo_childcare")
    return written
