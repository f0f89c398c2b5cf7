"""部门数据比对 (reconciliation with other departments, issue 17): the hospitals' 出生医学证明 list and the
police's 新生儿户籍登记 list, each record matched one-to-one to a registry birth (seed 004, L44 and L109: the
registry's 2419 births against the health system's 2884; births cross-checked with health and police).

A record is located at its mother's village (the registry knows her; an import row for a mother outside the
importer's area is refused), so every list is area-scoped like the registry.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.audit import tracked
from apps.core.privacy import mask_id_number
from apps.core.scoping import AreaScopedQuerySet


class Source(models.TextChoices):
    HOSPITAL = "hospital", "出生医学证明"
    POLICE = "police", "公安户籍登记"


class MatchStatus(models.TextChoices):
    UNMATCHED = "unmatched", "登记库中未找到"
    MATCHED = "matched", "已匹配"
    AMBIGUOUS = "ambiguous", "待人工确认"
    PICKED = "picked", "人工确认匹配"
    NONE = "none", "人工确认无匹配"


REVIEWED = (MatchStatus.PICKED, MatchStatus.NONE)
LINKED = (MatchStatus.MATCHED, MatchStatus.PICKED)


class MatchTolerance(models.Model):
    """比对日期容差: how many days a department's birth date may differ from the registry's and still match,
    dated data (a policy number, DESIGN §1) applied by the outside record's birth date."""

    days = models.PositiveSmallIntegerField("出生日期容差（天）")
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    basis = models.CharField("依据或说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "比对日期容差"
        verbose_name_plural = "比对日期容差"
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="match_tolerance_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.days}天（{self.valid_from:%Y-%m-%d}起）"


@tracked()
class OutsideBirth(models.Model):
    """外部出生记录: one row of a hospital's or the police's list, and its match to a registry birth.

    ``key`` is the natural key within the source (the certificate number; the police's child ID number, or
    for a registration without one the mother's number, date, sex and ordinal), so a re-import upserts."""

    source = models.CharField("来源", max_length=10, choices=Source.choices)
    key = models.CharField("记录键", max_length=80)
    mother = models.ForeignKey(
        "registry.Person", verbose_name="母亲", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    child_id_number = models.CharField("婴儿身份证号", max_length=18, blank=True)
    sex = models.CharField("婴儿性别", max_length=1, choices=[("M", "男"), ("F", "女")])
    date = models.DateField("出生日期")
    certificate_number = models.CharField("出生医学证明编号", max_length=40, blank=True)
    institution = models.CharField("医院或派出所", max_length=100)
    registered_on = models.DateField("户籍登记日期", null=True, blank=True)
    village = models.ForeignKey(
        "areas.Area", verbose_name="母亲所在村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    birth = models.ForeignKey(
        "registry.Birth", verbose_name="匹配的出生登记", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    status = models.CharField("比对结果", max_length=10, choices=MatchStatus.choices, default=MatchStatus.UNMATCHED)
    candidates = models.PositiveSmallIntegerField("候选出生登记数", default=0)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_index=False,
    )  # fmt: skip
    reviewed_at = models.DateTimeField("确认时间", null=True, blank=True)
    import_job_id = models.BigIntegerField("导入任务", null=True, blank=True)
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "外部出生记录"
        verbose_name_plural = "外部出生记录"
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="outside_birth_source_key"),
            # One-to-one: a registry birth is matched by at most one record of each source.
            models.UniqueConstraint(
                fields=["source", "birth"], condition=Q(birth__isnull=False), name="outside_birth_one_per_birth"
            ),
            models.CheckConstraint(
                condition=Q(birth__isnull=True) | Q(status__in=[s.value for s in LINKED]),
                name="outside_birth_linked_status",
            ),
        ]
        indexes = [
            models.Index(fields=["village", "date"], name="outside_birth_village_idx"),
            models.Index(fields=["mother", "sex", "date"], name="outside_birth_mother_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.date:%Y-%m-%d}"

    @property
    def mother_id_number_masked(self) -> str:
        return mask_id_number(self.mother.id_number)
