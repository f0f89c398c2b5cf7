"""Target responsibility scoring (目标管理责任制考核): schemes, contracts, assessments, adjustments, pairings.

A scheme (考核方案) is a versioned tree of lines (党政线, 人口计生线) and items with points; once published it is
frozen (a database trigger refuses any change), so that units read all year the rules they will be scored by
(seed 004, L8: "年末出台评估标准…来不及补缺补差"). A contract (目标管理责任书) gives each unit its targets per
indicator for a year; an assessment (考核) holds one unit's item scores, line scores, total and veto for a year.
"""

from datetime import date

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from apps.core.audit import tracked
from apps.core.scoping import AreaScopedQuerySet
from apps.indicators.models import INDICATOR_CHOICES

POINTS = {"max_digits": 7, "decimal_places": 2}


def _plain(value) -> str:
    """100.00 → "100", 6.30 → "6.3"."""
    return format(value.normalize(), "f") if value is not None else ""


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"


class ItemMethod(models.TextChoices):
    GROUP = "group", "分项合计"
    MANUAL = "manual", "人工评分"
    INDICATOR = "indicator", "指标计分"


class IndicatorScoring(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", "达标得满分，否则不得分"
    LINEAR = "linear", "线性计分"


class VetoEffect(models.TextChoices):
    NONE = "", "无"
    EXCLUDE_UNIT = "exclude_unit", "不参与评分排名"
    ZERO_LINE = "zero_line", "该线计0分"
    ZERO_ITEM = "zero_item", "该项计0分"


class AdjustmentDirection(models.TextChoices):
    BONUS = "bonus", "加分"
    DEDUCTION = "deduction", "扣分"


class AdjustmentKind(models.TextChoices):
    FIXED = "fixed", "固定分值"
    TIERED = "tiered", "分档"
    RANGE = "range", "区间"
    PER_CASE = "per_case", "按例计"


class TargetDirection(models.TextChoices):
    AT_MOST = "at_most", "≤"
    AT_LEAST = "at_least", "≥"


@tracked()
@pgtrigger.register(
    # Frozen once published: no update or delete of a published scheme, at the database (seed 004, L8).
    pgtrigger.Protect(
        name="published_scheme_frozen",
        operation=pgtrigger.Update | pgtrigger.Delete,
        condition=pgtrigger.Q(old__status="published"),
    ),
)
class Scheme(models.Model):
    """考核方案, one version of it. ``code`` names the scheme, ``version`` counts its loads."""

    code = models.CharField("方案代码", max_length=50)
    version = models.PositiveIntegerField("版本")
    name = models.CharField("名称", max_length=200)
    applies_to = models.CharField("考核对象", max_length=20, default="township")
    assessed_in_month = models.PositiveSmallIntegerField("全面考核月份", null=True, blank=True)
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    total_points = models.DecimalField("总分", **POINTS)
    source_sha256 = models.CharField("来源文件摘要", max_length=64)
    source_text = models.TextField("来源文件")
    results_config = models.JSONField("结果规则", default=dict, blank=True)
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "考核方案"
        verbose_name_plural = "考核方案"
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="scheme_code_version_unique"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="scheme_effective_range",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="scheme_published_at_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（第{self.version}版）"

    @property
    def is_frozen(self) -> bool:
        return self.status == SchemeStatus.PUBLISHED

    def published_late_for(self, year: int) -> bool:
        """Published once ``year`` had begun: the units worked part of the year without knowing the rules
        they are scored by (seed 004, L8: "年末出台评估标准…来不及补缺补差")."""
        from django.utils import timezone

        return self.published_at is not None and timezone.localtime(self.published_at).date() >= date(year, 1, 1)


@tracked()
@pgtrigger.register(
    # Items are written once, with their scheme version; a change is a new version (never an edit).
    pgtrigger.Protect(name="scheme_item_immutable", operation=pgtrigger.Update),
)
class SchemeItem(models.Model):
    """考核项目: a line (``parent`` empty: 党政线, 人口计生线) or an item under it."""

    scheme = models.ForeignKey(Scheme, verbose_name="考核方案", on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey(
        "self", verbose_name="上级项目", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    line = models.ForeignKey(
        "self", verbose_name="所属线", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code = models.CharField("代码", max_length=100)
    name = models.CharField("名称", max_length=200)
    path = models.CharField("路径", max_length=500)
    position = models.PositiveIntegerField("顺序")
    depth = models.PositiveSmallIntegerField("层级")
    points = models.DecimalField("分值", **POINTS)
    method = models.CharField("计分方式", max_length=10, choices=ItemMethod.choices)
    indicator_code = models.CharField("指标代码", max_length=50, blank=True)
    scoring = models.CharField("指标计分规则", max_length=20, choices=IndicatorScoring.choices, blank=True)
    floor = models.DecimalField("零分线", max_digits=12, decimal_places=4, null=True, blank=True)
    veto = models.CharField("一票否决", max_length=20, choices=VetoEffect.choices, blank=True, default="")

    class Meta:
        verbose_name = "考核项目"
        verbose_name_plural = "考核项目"
        ordering = ["scheme", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="scheme_item_code_unique"),
            models.CheckConstraint(condition=Q(points__gt=0), name="scheme_item_points_positive"),
            models.CheckConstraint(
                condition=~Q(method="indicator") | (~Q(indicator_code="") & ~Q(scoring="")),
                name="scheme_item_indicator_complete",
            ),
            models.CheckConstraint(
                condition=~Q(scoring="linear") | Q(floor__isnull=False), name="scheme_item_linear_has_floor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{_plain(self.points)}分）"

    @property
    def is_line(self) -> bool:
        return self.parent_id is None


@tracked()
@pgtrigger.register(pgtrigger.Protect(name="adjustment_rule_immutable", operation=pgtrigger.Update))
class AdjustmentRule(models.Model):
    """加分/扣分项目 of a scheme: fixed, tiered (one of ``tiers``), range (``min_points``..``max_points``) or
    per case (``points`` each; a case the unit had not reported costs ``unreported_multiplier`` times)."""

    scheme = models.ForeignKey(Scheme, verbose_name="考核方案", on_delete=models.CASCADE, related_name="rules")
    direction = models.CharField("类别", max_length=10, choices=AdjustmentDirection.choices)
    code = models.CharField("代码", max_length=100)
    name = models.CharField("名称", max_length=200)
    position = models.PositiveIntegerField("顺序")
    kind = models.CharField("计分方式", max_length=10, choices=AdjustmentKind.choices)
    points = models.DecimalField("分值", null=True, blank=True, **POINTS)
    tiers = ArrayField(models.DecimalField(**POINTS), verbose_name="分档", default=list, blank=True)
    min_points = models.DecimalField("最低分值", null=True, blank=True, **POINTS)
    max_points = models.DecimalField("最高分值", null=True, blank=True, **POINTS)
    unreported_multiplier = models.DecimalField("未如实上报倍数", max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = "加减分项目"
        verbose_name_plural = "加减分项目"
        ordering = ["scheme", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="adjustment_rule_code_unique"),
            models.CheckConstraint(
                condition=~Q(kind__in=["fixed", "per_case"]) | Q(points__gt=0), name="adjustment_rule_points_set"
            ),
            models.CheckConstraint(
                condition=~Q(kind="range") | Q(min_points__gt=0, max_points__gte=F("min_points")),
                name="adjustment_rule_range_set",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}：{self.name}"


@tracked()
class ResultRules(models.Model):
    """考核结果规则 per assessment year: how many of the lowest-ranked units get the yellow card (黄牌警告,
    seed 004 L141 gives no threshold, so it is data). Example rows come from a data migration."""

    year = models.PositiveSmallIntegerField("考核年度", unique=True)
    yellow_card_bottom_ranks = models.PositiveSmallIntegerField(
        "黄牌警告名额", default=1, help_text="排名最后的若干名列为“重点管理”单位，给予黄牌警告"
    )
    tie_break = ArrayField(
        models.CharField(max_length=100),
        verbose_name="总分并列时依次比较",
        default=list,
        blank=True,
        help_text="考核方案中线或项目的代码，按顺序比较其得分，高者名次在前；仍并列的名次相同",
    )

    class Meta:
        verbose_name = "考核结果规则"
        verbose_name_plural = "考核结果规则"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}年考核结果规则"


@tracked()
class GradeBand(models.Model):
    """等次 per year: a total of at least ``min_total`` earns ``label`` (the highest band that fits)."""

    year = models.PositiveSmallIntegerField("考核年度")
    label = models.CharField("等次", max_length=20)
    min_total = models.DecimalField("最低总分", **POINTS)

    class Meta:
        verbose_name = "考核等次"
        verbose_name_plural = "考核等次"
        ordering = ["-year", "-min_total"]
        constraints = [
            models.UniqueConstraint(fields=["year", "label"], name="grade_band_label_unique"),
            models.UniqueConstraint(fields=["year", "min_total"], name="grade_band_min_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.label}（≥{_plain(self.min_total)}）"


class LocatedByUnit(models.Model):
    """A row of one assessed unit (a township), scoped by its area code (DESIGN §4)."""

    area = models.ForeignKey("areas.Area", verbose_name="考核单位", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("考核年度")

    area_scope_field = "area_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        abstract = True


@tracked()
class Contract(LocatedByUnit):
    """目标管理责任书: one per unit and year, signed at the start of the year (seed 004, L52, L71)."""

    signed_on = models.DateField("签订日期")
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "目标管理责任书"
        verbose_name_plural = "目标管理责任书"
        ordering = ["-year", "area"]
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="contract_unit_year_unique")]

    def __str__(self) -> str:
        return f"{self.year}年 {self.area.name} 目标管理责任书"


@tracked()
class ContractTarget(models.Model):
    """责任书指标: e.g. 出生率 ≤ 11.00‰, 政策生育率 ≥ 95% (seed 004, L147–153)."""

    contract = models.ForeignKey(Contract, verbose_name="责任书", on_delete=models.CASCADE, related_name="targets")
    indicator_code = models.CharField("指标", max_length=50, choices=INDICATOR_CHOICES)
    direction = models.CharField("方向", max_length=10, choices=TargetDirection.choices)
    target = models.DecimalField("目标值", max_digits=12, decimal_places=4)

    class Meta:
        verbose_name = "责任书指标"
        verbose_name_plural = "责任书指标"
        ordering = ["contract", "indicator_code"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "indicator_code"], name="contract_target_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_code} {self.get_direction_display()} {_plain(self.target)}"


class AssessmentStatus(models.TextChoices):
    OPEN = "open", "考核中（预计得分）"
    FINAL = "final", "已定稿"


@tracked()
class Assessment(LocatedByUnit):
    """考核: one unit's scores for a year under one published scheme. Until it is final its total is the
    projection from the latest indicator snapshot (预计得分)."""

    scheme = models.ForeignKey(Scheme, verbose_name="考核方案", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.OPEN)
    indicator_period = models.CharField("指标期间", max_length=12, blank=True)
    indicator_run_id = models.BigIntegerField("指标快照", null=True, blank=True)
    data_as_of = models.DateTimeField("数据截至", null=True, blank=True)
    excluded = models.BooleanField("一票否决（不参与排名）", default=False)
    veto_reason = models.TextField("否决原因", blank=True)
    line_total = models.DecimalField("各线合计", default=0, **POINTS)
    bonus_total = models.DecimalField("加分", default=0, **POINTS)
    deduction_total = models.DecimalField("扣分", default=0, **POINTS)
    total = models.DecimalField("总分", default=0, **POINTS)
    computed_at = models.DateTimeField("计算时间", null=True, blank=True)
    finalised_at = models.DateTimeField("定稿时间", null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="定稿人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = "考核"
        verbose_name_plural = "考核"
        ordering = ["-year", "area"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year"], name="assessment_unit_year_unique"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(finalised_at__isnull=False), name="assessment_final_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年 {self.area.name} 考核"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("scoring:assessment_detail", kwargs={"pk": self.pk})


@tracked()
class AssessmentYear(models.Model):
    """考核年度 of a county: opened under one published scheme. A scheme published once the year had begun is
    accepted only with ``late_reason``, shown on every result page of the year (seed 004, L8)."""

    county = models.ForeignKey("areas.Area", verbose_name="县", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("考核年度")
    scheme = models.ForeignKey(Scheme, verbose_name="考核方案", on_delete=models.PROTECT, related_name="+")
    late_reason = models.TextField("方案迟发说明", blank=True)
    opened_at = models.DateTimeField("开启时间")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="开启人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = "考核年度"
        verbose_name_plural = "考核年度"
        ordering = ["-year", "county"]
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="assessment_year_unique")]

    def __str__(self) -> str:
        return f"{self.year}年考核"


class ScoreSource(models.TextChoices):
    MANUAL = "manual", "人工评分"
    INDICATOR = "indicator", "指标计分"


def evidence_path(instance, filename: str) -> str:
    return f"scoring/evidence/{instance.assessment_id}/{filename}"


@tracked()
class ItemScore(models.Model):
    """得分 of one leaf item in one assessment: entered by an assessor (manual) or computed from the indicator
    snapshot against the contract target (indicator; ``value``/``target`` explain it)."""

    assessment = models.ForeignKey(Assessment, verbose_name="考核", on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(SchemeItem, verbose_name="考核项目", on_delete=models.PROTECT, related_name="+")
    source = models.CharField("来源", max_length=10, choices=ScoreSource.choices)
    points = models.DecimalField("得分", null=True, blank=True, **POINTS)
    note = models.TextField("评分说明", blank=True)
    evidence = models.FileField("佐证材料", upload_to=evidence_path, blank=True, max_length=300)
    value = models.DecimalField("指标值", max_digits=14, decimal_places=4, null=True, blank=True)
    target = models.DecimalField("目标值", max_digits=12, decimal_places=4, null=True, blank=True)
    direction = models.CharField("方向", max_length=10, choices=TargetDirection.choices, blank=True)
    met = models.BooleanField("达标", null=True)
    vetoed = models.BooleanField("触发一票否决", default=False)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="评分人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    scored_at = models.DateTimeField("评分时间", null=True, blank=True)

    class Meta:
        verbose_name = "项目得分"
        verbose_name_plural = "项目得分"
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="item_score_unique"),
            models.CheckConstraint(condition=Q(points__isnull=True) | Q(points__gte=0), name="item_score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item.name}: {self.points}"


class LineScore(models.Model):
    """线得分: one line's score in one assessment (after veto), the base of the per-line ranking (三线排位)."""

    assessment = models.ForeignKey(Assessment, verbose_name="考核", on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(SchemeItem, verbose_name="线", on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField("得分", **POINTS)
    adjustment = models.DecimalField("计入该线的加减分", default=0, **POINTS)
    zeroed = models.BooleanField("因一票否决计0分", default=False)

    class Meta:
        verbose_name = "线得分"
        verbose_name_plural = "线得分"
        ordering = ["assessment", "line__position"]
        constraints = [models.UniqueConstraint(fields=["assessment", "line"], name="line_score_unique")]

    def __str__(self) -> str:
        return f"{self.line.name}: {self.score}"


class AdjustmentStatus(models.TextChoices):
    CLAIMED = "claimed", "待审核"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"


@tracked()
class Adjustment(models.Model):
    """加分/扣分 claimed for one assessment by the unit or an assessor, decided by a different user (seed 004,
    L125: "由各镇、街道进行申报，区人口计生局局务会研究确定"; L129–130: "经查实")."""

    assessment = models.ForeignKey(
        Assessment, verbose_name="考核", on_delete=models.CASCADE, related_name="adjustments"
    )
    rule = models.ForeignKey(AdjustmentRule, verbose_name="加减分项目", on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey(
        SchemeItem, verbose_name="计入线", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="空：计入总分；否则计入该线得分（参与该线排位）",
    )  # fmt: skip
    direction = models.CharField("类别", max_length=10, choices=AdjustmentDirection.choices)
    chosen_points = models.DecimalField("申报分值", null=True, blank=True, **POINTS)
    cases = models.PositiveIntegerField("例数（已如实上报）", default=0)
    unreported_cases = models.PositiveIntegerField("例数（未如实上报）", default=0)
    points = models.DecimalField("分值", **POINTS)
    note = models.TextField("事由")
    evidence = models.FileField("佐证材料", upload_to=evidence_path, blank=True, max_length=300)
    status = models.CharField("状态", max_length=10, choices=AdjustmentStatus.choices, default="claimed")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申报人", on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField("申报时间")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = models.CharField("审核意见", max_length=200, blank=True)

    class Meta:
        verbose_name = "加减分"
        verbose_name_plural = "加减分"
        ordering = ["assessment", "claimed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="adjustment_points_positive"),
            # Four eyes: the claimant never decides the claim.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("claimed_by")),
                name="adjustment_decided_by_other",
            ),
            models.CheckConstraint(
                condition=Q(status="claimed") | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="adjustment_decision_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {_plain(self.points)}：{self.rule.name}"

    @property
    def signed_points(self):
        return self.points if self.direction == AdjustmentDirection.BONUS else -self.points


class PairingKind(models.TextChoices):
    LEADER = "leader", "县级领导"
    DEPARTMENT = "department", "县直部门"


@tracked()
class Pairing(LocatedByUnit):
    """包保: a county leader or department assigned to a township for a year, shown with its results."""

    kind = models.CharField("类型", max_length=12, choices=PairingKind.choices)
    name = models.CharField("包保领导或部门", max_length=100)
    title = models.CharField("职务", max_length=100, blank=True)

    class Meta:
        verbose_name = "包保关系"
        verbose_name_plural = "包保关系"
        ordering = ["-year", "area", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year", "kind", "name"], name="pairing_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.area.name}：{self.get_kind_display()} {self.name}"


# --- 入户抽查: the county's sample checks of the registry ---------------------------------------------------


@tracked()
class SampleCheckPolicy(models.Model):
    """抽查规则: how many households per township a sample check visits, the accuracy below which a deduction is
    proposed, and the scheme's adjustment rule (by code) it is proposed under; dated data like every policy."""

    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    households_per_township = models.PositiveSmallIntegerField("每乡镇抽查户数")
    accuracy_threshold = models.DecimalField(
        "统计准确率合格线（%）", max_digits=5, decimal_places=2, help_text="低于此值时提出扣分建议"
    )
    adjustment_rule_code = models.CharField(
        "扣分项目代码", max_length=100, default="spot_check_problem", help_text="考核方案中加减分项目的代码"
    )

    class Meta:
        verbose_name = "入户抽查规则"
        verbose_name_plural = "入户抽查规则"
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.valid_from:%Y-%m-%d}起 每乡镇{self.households_per_township}户"


class SampleCheckStatus(models.TextChoices):
    OPEN = "open", "核查中"
    CLOSED = "closed", "已结束"


@tracked()
class SampleCheck(models.Model):
    """入户抽查 of one township: households drawn by a seed that is kept secret until the check is closed (only
    its SHA-256 is shown from the draw), so nobody can prepare the sampled households, and anyone can verify
    afterwards that the published seed gives exactly this sample."""

    township = models.ForeignKey("areas.Area", verbose_name="乡镇", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("考核年度")
    policy = models.ForeignKey(SampleCheckPolicy, verbose_name="抽查规则", on_delete=models.PROTECT, related_name="+")
    seed = models.CharField("随机种子", max_length=64)
    seed_sha256 = models.CharField("随机种子摘要（SHA-256）", max_length=64)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="抽样人", on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField("抽样时间", auto_now_add=True)
    status = models.CharField("状态", max_length=10, choices=SampleCheckStatus.choices, default=SampleCheckStatus.OPEN)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="结束人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    adjustment = models.ForeignKey(
        Adjustment, verbose_name="扣分建议", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    area_scope_field = "township_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "入户抽查"
        verbose_name_plural = "入户抽查"
        ordering = ["-year", "township_id"]
        constraints = [models.UniqueConstraint(fields=["township", "year"], name="sample_check_township_year")]

    def __str__(self) -> str:
        return f"{self.year}年 {self.township.name} 入户抽查"

    @property
    def seed_shown(self) -> str:
        """The seed itself only once the check is closed."""
        return self.seed if self.status == SampleCheckStatus.CLOSED else ""


class SampleHousehold(models.Model):
    """A household drawn, in the order the seed gives (the checkers visit them in this order)."""

    sample = models.ForeignKey(SampleCheck, verbose_name="抽查", on_delete=models.CASCADE, related_name="households")
    household = models.ForeignKey(
        "registry.Household", verbose_name="户", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    rank = models.PositiveSmallIntegerField("顺序")

    class Meta:
        verbose_name = "抽中户"
        verbose_name_plural = "抽中户"
        ordering = ["sample", "rank"]
        constraints = [models.UniqueConstraint(fields=["sample", "household"], name="sample_household_unique")]

    def __str__(self) -> str:
        return f"第{self.rank}户"


class FindingKind(models.TextChoices):
    FOUND = "found", "信息一致"
    NOT_FOUND = "not_found", "查无此人"
    WRONG_FIELD = "wrong_field", "信息有误"
    UNREGISTERED_PERSON = "unregistered_person", "漏登人员"
    UNREGISTERED_EVENT = "unregistered_event", "漏登事件"


# Findings about a registered person; the others are finds the registry lacks.
CHECKED_KINDS = (FindingKind.FOUND, FindingKind.NOT_FOUND, FindingKind.WRONG_FIELD)


@tracked()
class SampleFinding(models.Model):
    """核查结果: one registered person of a sampled household checked at the door (found, not found, a field
    wrong), or a person or event found there that the registry lacks."""

    sample = models.ForeignKey(SampleCheck, verbose_name="抽查", on_delete=models.CASCADE, related_name="findings")
    household = models.ForeignKey(
        "registry.Household", verbose_name="户", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    person = models.ForeignKey(
        "registry.Person", verbose_name="人员", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        db_index=False,
    )  # fmt: skip
    kind = models.CharField("结果", max_length=20, choices=FindingKind.choices)
    field = models.CharField("有误的项目", max_length=50, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="核查人", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("录入时间", auto_now=True)

    class Meta:
        verbose_name = "核查结果"
        verbose_name_plural = "核查结果"
        ordering = ["sample", "household", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "person"], condition=Q(person__isnull=False), name="sample_finding_one_per_person"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["found", "not_found", "wrong_field"], person__isnull=False)
                | Q(kind__in=["unregistered_person", "unregistered_event"], person__isnull=True),
                name="sample_finding_person_by_kind",
            ),
            models.CheckConstraint(condition=~Q(kind="wrong_field") | ~Q(field=""), name="sample_finding_field_named"),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()
