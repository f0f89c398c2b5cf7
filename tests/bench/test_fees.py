"""The township ledger and fee_collection_by_village over a county with many fee cases (DESIGN §9: set-based,
a bounded number of statements whatever the number of cases or townships).

Setup writes rows in bulk (births, cases, payments) because it is data for the measurement, not the subject;
the measured reads are the ones the ledger page and the indicators run.
"""

import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.services import user_create
from apps.areas.models import Area, AreaLevel
from apps.areas.services import areas_load_csv
from apps.fees.models import FeeCase, FeeStandard, Payment
from apps.fees.selectors import fee_collection_by_village, ledger_total, township_ledger
from apps.registry.models import Birth, Person
from tests.conftest import AREAS_CSV, COUNTY
from tests.fees.conftest import load_policy_data

CASES = 40_000
RUNS = 5


def _county_with_cases(n: int) -> None:
    villages = list(Area.objects.filter(level=AreaLevel.VILLAGE).values_list("code", flat=True))
    townships = list(Area.objects.filter(level=AreaLevel.TOWNSHIP).order_by("code").values_list("code", flat=True))
    standard = FeeStandard.objects.get()
    mothers = Person.objects.bulk_create(
        Person(
            id_number=f"131025198501{i:06d}", name=f"母{i}", sex="F", birth_date=date(1985, 1, 1),
            hukou_type="agricultural", village_id=villages[i % len(villages)],
        )
        for i in range(n)
    )  # fmt: skip
    children = Person.objects.bulk_create(
        Person(name=f"子{i}", sex="M", birth_date=date(2012, 1, 1), hukou_type="agricultural", village_id=m.village_id)
        for i, m in enumerate(mothers)
    )
    births = Birth.objects.bulk_create(
        Birth(
            mother=m, child=c, date=date(2012, 1, 1), sex="M", birth_order=2, policy_status="out_of_policy",
            policy_status_computed="out_of_policy", entered_on=date(2012, 1, 5), village_id=m.village_id,
        )
        for m, c in zip(mothers, children, strict=True)
    )  # fmt: skip
    cases = []
    for i, b in enumerate(births):
        township = b.village_id[:9] + "000"
        decided = Decimal(13000 + (i % 50) * 100)
        collected = decided if i % 3 == 0 else (decided / 2 if i % 3 == 1 else Decimal(0))
        home = township if i % 10 else townships[(townships.index(township) + 1) % len(townships)]  # 10% moved
        cases.append(
            FeeCase(
                birth=b, village_id=b.village_id, birth_date=b.date, mother_id=b.mother_id,
                finding_township_id=township, home_township_id=home,
                finding_share_percent=Decimal("10.00") if home != township else Decimal(0),
                state="paid" if i % 3 == 0 else "decided", opened_on=date(2012, 2, 1), standard=standard,
                category="rural", excess_order=1, income_base=Decimal("8081.00"), range_min=Decimal("13000.00"),
                range_max=Decimal("24243.00"), decision_number=f"决{i}",
                decided_on=date(2012, 3, 1) + timedelta(i % 300),
                decided_amount=decided, due_on=date(2013, 3, 1), collected_amount=collected,
            )
        )  # fmt: skip
    cases = FeeCase.objects.bulk_create(cases, batch_size=5000)
    Payment.objects.bulk_create(
        (
            Payment(
                case=c, receipt_number=f"P{c.pk}", amount=c.collected_amount, paid_on=date(2013, 1, 1), method="cash"
            )
            for c in cases
            if c.collected_amount
        ),
        batch_size=5000,
    )


def test_township_ledger_over_a_county(transactional_db, bench_record):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    load_policy_data()
    viewer = user_create(username="bench", password="Bench-Password-1", area=Area.objects.get(code=COUNTY),
                         roles=["county_viewer"])  # fmt: skip
    _county_with_cases(CASES)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    start, end = date(2012, 1, 1), date(2012, 12, 31)
    ledger_ms, village_ms = [], []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as ledger_queries:
            t = time.perf_counter()
            rows = township_ledger(user=viewer, start=start, end=end)
            ledger_ms.append((time.perf_counter() - t) * 1000)
        with CaptureQueriesContext(connection) as village_queries:
            t = time.perf_counter()
            villages = fee_collection_by_village(start=start, end=end)
            village_ms.append((time.perf_counter() - t) * 1000)
    total = ledger_total(rows=rows)
    assert total.cases == CASES and total.kept == total.collected
    assert sum(v[2] for v in villages) == total.decided
    assert len(ledger_queries) == 1 and len(village_queries) == 1
    bench_record(
        "fees_ledger",
        cases=CASES,
        townships=len(rows),
        villages=len(villages),
        township_ledger_ms_median=round(statistics.median(ledger_ms), 1),
        township_ledger_ms_max=round(max(ledger_ms), 1),
        fee_collection_by_village_ms_median=round(statistics.median(village_ms), 1),
        queries_per_call=1,
    )
