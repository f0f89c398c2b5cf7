"""The matching rule of the reconciliation, in one place: the SQL that both the matching (``services``) and
the review page (``selectors.candidates_of``) use."""

# The candidate pairs of the records that ``records`` (SQL yielding id, source, mother_id, sex, date) lists.
CANDIDATES = """
    SELECT o.id AS oid, o.source, b.id AS bid
    FROM ({records}) o
    CROSS JOIN LATERAL (
        SELECT COALESCE((SELECT t.days FROM reconciliation_matchtolerance t
                         WHERE t.valid_from <= o.date AND (t.valid_to IS NULL OR t.valid_to >= o.date)
                         ORDER BY t.valid_from DESC LIMIT 1), 0) AS days
    ) tol
    JOIN registry_birth b ON b.mother_id = o.mother_id AND b.sex = o.sex AND b.voided_at IS NULL
         AND b.date BETWEEN o.date - tol.days AND o.date + tol.days
    WHERE NOT EXISTS (
        SELECT 1 FROM reconciliation_outsidebirth p
        WHERE p.source = o.source AND p.birth_id = b.id AND p.status = 'picked' AND p.id <> o.id
    )
"""


def candidates_sql(records: str) -> str:
    return CANDIDATES.format(records=records)
