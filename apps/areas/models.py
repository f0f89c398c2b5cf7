"""The administrative tree: county (县) → township (乡镇/街道) → village (村/居), keyed by official code."""

import pghistory
from django.db import models

from apps.core.areacodes import code_range
from apps.core.scoping import AreaScopedQuerySet


class AreaLevel(models.TextChoices):
    COUNTY = "county", "县（市、区）"
    TOWNSHIP = "township", "乡镇（街道）"
    VILLAGE = "village", "村（居）委会"


# The code digits each level keeps; the rest are zero (DESIGN §4).
LEVEL_SIGNIFICANT_DIGITS = {AreaLevel.COUNTY: 6, AreaLevel.TOWNSHIP: 9, AreaLevel.VILLAGE: 12}


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Area(models.Model):
    """行政区划. ``code`` is the 12-digit statistical division code (统计用区划代码)."""

    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("级别", max_length=16, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级区划",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    area_scope_field = "code"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^\d{12}$"), name="area_code_12_digits"),
            models.CheckConstraint(condition=models.Q(level__in=AreaLevel.values), name="area_level_valid"),
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True) | ~models.Q(parent=models.F("code")),
                name="area_not_own_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("areas:detail", kwargs={"code": self.code})

    @property
    def code_range(self) -> tuple[str, str]:
        return code_range(self.code)
