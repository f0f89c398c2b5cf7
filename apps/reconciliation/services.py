"""Writes of the reconciliation (部门数据比对): matching the departments' records to registry births, and a
clerk's decision on an ambiguous match.

Matching is one rule in one place (``rules.CANDIDATES``): a record's candidates are the live registry births of
the same mother, of the same sex, born within the tolerance in force on the record's birth date (dated data,
``MatchTolerance``). ``matches_run`` applies it set-based to every record of the given mothers (or all):
a record with exactly one candidate that no other record of its source claims is matched; a record with
several candidates, or whose one candidate another record of its source also claims (twins of one sex,
close dates), goes to review (待人工确认); no candidate leaves it unmatched. A clerk's pick or "none" stands
until the clerk changes it, and the birth a clerk picked is no longer a candidate of the source's others.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from apps.core.audit import audit_context
from apps.core.errors import RuleViolation
from apps.reconciliation.models import MatchStatus, OutsideBirth
from apps.reconciliation.rules import candidates_sql


@transaction.atomic
def matches_run(*, mother_ids: list[int] | None = None) -> dict[str, int]:
    """Matches every record not decided by a clerk, of the given mothers (all when ``None``), in three
    statements; returns the count of records by status among those run."""
    where = "status NOT IN ('picked', 'none')"
    params: dict = {}
    if mother_ids is not None:
        where += " AND mother_id = ANY(%(mothers)s)"
        params["mothers"] = list(mother_ids)
    records = f"SELECT id, source, mother_id, sex, date FROM reconciliation_outsidebirth WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE TEMP TABLE match_result ON COMMIT DROP AS
            WITH pairs AS ({candidates_sql(records)}),
            counted AS (
                SELECT oid, bid, count(*) OVER (PARTITION BY oid) AS per_record,
                       count(*) OVER (PARTITION BY source, bid) AS per_birth
                FROM pairs
            )
            SELECT o.id, count(c.bid)::int AS n, max(c.bid) FILTER (WHERE c.per_record = 1 AND c.per_birth = 1) AS bid
            FROM ({records}) o LEFT JOIN counted c ON c.oid = o.id
            GROUP BY o.id
            """,  # noqa: S608 - our own SQL, values are parameters
            params,
        )
        # The audit trigger (pghistory) joins the statement's old and new rows; the planner knows nothing of
        # their number and joined 12,000 × 12,000 in a nested loop (49 s at the 600,000-person county; 0.47 s
        # with a hash join, tests/bench/test_reconciliation.py).
        cursor.execute("SET LOCAL enable_nestloop = off")
        # Two steps, so that a birth passing from one record to another never meets the one-to-one constraint
        # half-way.
        cursor.execute(
            "UPDATE reconciliation_outsidebirth x SET birth_id = NULL FROM match_result r "
            "WHERE x.id = r.id AND x.birth_id IS DISTINCT FROM r.bid AND x.birth_id IS NOT NULL"
        )
        cursor.execute(
            """
            UPDATE reconciliation_outsidebirth x SET birth_id = r.bid, candidates = least(r.n, 32767),
                   status = CASE WHEN r.bid IS NOT NULL THEN 'matched' WHEN r.n = 0 THEN 'unmatched'
                                 ELSE 'ambiguous' END
            FROM match_result r
            WHERE x.id = r.id AND (x.birth_id IS DISTINCT FROM r.bid OR x.candidates <> least(r.n, 32767)
                  OR x.status <> CASE WHEN r.bid IS NOT NULL THEN 'matched' WHEN r.n = 0 THEN 'unmatched'
                                      ELSE 'ambiguous' END)
            """
        )
        cursor.execute("RESET enable_nestloop")  # only for these two updates, not the caller's transaction
        cursor.execute(
            "SELECT CASE WHEN bid IS NOT NULL THEN 'matched' WHEN n = 0 THEN 'unmatched' ELSE 'ambiguous' END, "
            "count(*) FROM match_result GROUP BY 1"
        )
        counts = dict(cursor.fetchall())
        cursor.execute("DROP TABLE match_result")
    return {status: counts.get(status, 0) for status in ("matched", "ambiguous", "unmatched")}


def candidate_ids(*, record: OutsideBirth) -> list[int]:
    """The registry births that may be this record's match (``rules.CANDIDATES``), by id."""
    from apps.reconciliation.selectors import candidates_of

    return candidates_of(records=[record]).get(record.pk, [])


@transaction.atomic
def match_review(*, record: OutsideBirth, birth_id: int | None, by) -> OutsideBirth:
    """人工确认: the clerk picks the registry birth a record is (one of its candidates), or marks it as matching
    none. Audited (who, when, before and after); the mother's other records are matched again, since the
    birth picked is no longer theirs to claim."""
    record = OutsideBirth.objects.select_for_update().get(pk=record.pk)
    if record.status not in (MatchStatus.AMBIGUOUS, MatchStatus.PICKED, MatchStatus.NONE):
        raise RuleViolation("该记录已自动匹配或没有候选出生登记，无需人工确认", field="birth")
    if birth_id is not None:
        if birth_id not in candidate_ids(record=record):
            raise RuleViolation("所选出生登记不是该记录的候选登记，请重新选择", field="birth")
        taken = (
            OutsideBirth.objects.filter(source=record.source, birth_id=birth_id, status=MatchStatus.MATCHED)
            .exclude(pk=record.pk)
            .exists()
        )
        if taken:
            raise RuleViolation("所选出生登记已与同一来源的另一条记录匹配", field="birth")
    with audit_context(by=by, reason="部门比对人工确认"):
        record.birth_id = birth_id
        record.status = MatchStatus.PICKED if birth_id is not None else MatchStatus.NONE
        record.reviewed_by = by
        record.reviewed_at = timezone.now()
        record.save(update_fields=["birth", "status", "reviewed_by", "reviewed_at"])
        matches_run(mother_ids=[record.mother_id])
    return record


def matches_run_for(*, user) -> dict[str, int]:
    """重新比对 for the user's area (after births were registered or corrected): the mothers of its records."""
    from apps.reconciliation.selectors import records_visible_to

    mothers = list(records_visible_to(user=user).values_list("mother_id", flat=True).distinct())
    with audit_context(by=user, reason="重新比对"):
        return matches_run(mother_ids=mothers)
