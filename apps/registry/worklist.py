"""The start page's registry work (``apps.core.worklist``): entries that came into the data-quality lists
since the clerk last looked. Only the lists that are cheap to narrow to new entries are counted (births of
the last year entered since, floating-population records that went stale since); the likely-duplicates list
compares the whole registry and stays on its own page, which the link opens."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.core.access import CLERKS, COUNTY_ADMIN
from apps.core.worklist import WorkItem, new_since
from apps.registry import selectors

KEY = "registry.quality"
WINDOW = timedelta(days=30)
STALE_AFTER_DAYS = 365  # the data-quality page's default
RECENT_BIRTH_DAYS = 366


def items(user) -> list[WorkItem]:
    def new_entries() -> int:
        since = new_since(user, KEY, window=WINDOW)
        today, seen_day = timezone.localdate(), timezone.localtime(since).date()
        # Births entered since, of the last year (the (village, date) index narrows them; a bulk load of ten
        # years at once must not make this page scan and join every birth).
        recent = {"created_at__gt": since, "date__gte": today - timedelta(days=RECENT_BIRTH_DAYS)}
        births = (
            selectors.quality_mother_age_outliers(user=user).filter(**recent).count()
            + selectors.quality_child_before_parent(user=user).filter(**recent).count()
        )
        # A record dated d goes stale on day d + STALE_AFTER_DAYS + 1: new are those that did after the day
        # of the last look.
        stale = selectors.quality_stale_floating(user=user, older_than_days=STALE_AFTER_DAYS, today=today)
        return births + stale.filter(date__gte=seen_day - timedelta(days=STALE_AFTER_DAYS)).count()

    return [
        WorkItem(KEY, "数据质量检查发现的新问题", "registry:quality", roles=CLERKS | {COUNTY_ADMIN},
                 count=new_entries, hint="新登记的出生中日期异常的、新超期未更新的流动人口：逐条核实更正", order=50),
    ]  # fmt: skip
