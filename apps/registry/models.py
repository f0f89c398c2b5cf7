"""The population registry (人口登记): persons, households and their life events (DESIGN §5).

Every located row stores the 12-digit code of its village (``village_id``) so that area scoping is one
index range scan. Invariants that span rows (birth order, policy status, current residence, death closing
contraception) are kept by ``services.py``; invariants of one row are database constraints here.
"""

from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import DateRangeField
from django.db import models
from django.db.models import F, Func, Q

from apps.core.audit import tracked
from apps.core.privacy import mask_id_number, mask_phone
from apps.core.scoping import AreaScopedQuerySet

ID_NUMBER_REGEX = r"^\d{17}[0-9X]$"
AREA_CODE_REGEX = r"^\d{12}$"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class HukouType(models.TextChoices):
    AGRICULTURAL = "agricultural", "农业"
    NON_AGRICULTURAL = "non_agricultural", "非农业"


class EmploymentType(models.TextChoices):
    FARMER = "farmer", "农民"
    URBAN_RESIDENT = "urban_resident", "城镇居民"
    EMPLOYEE = "employee", "单位职工"


class MaritalStatus(models.TextChoices):
    UNMARRIED = "unmarried", "未婚"
    MARRIED = "married", "已婚"
    DIVORCED = "divorced", "离婚"
    WIDOWED = "widowed", "丧偶"


class TimestampedModel(models.Model):
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never searched by; an index would only slow bulk imports
    )

    class Meta:
        abstract = True


class LocatedModel(TimestampedModel):
    """A row located at a village: scoped by ``village_id`` (DESIGN §4)."""

    # No automatic index: Django's would add a second, LIKE-only copy for a text key; each model declares
    # the index its scoped lists need, starting with the village code (range scans by area).
    village = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class LiveEventQuerySet(AreaScopedQuerySet):
    def voided(self) -> "LiveEventQuerySet":
        return self.filter(voided_at__isnull=False)


class LiveEventManager(models.Manager.from_queryset(LiveEventQuerySet)):
    """``objects`` of an event: the events in force. A voided event (作废) stays in the table and its history,
    out of every count and rule; ``all_objects`` includes it (the person page shows it struck through)."""

    def get_queryset(self):
        return super().get_queryset().filter(voided_at__isnull=True)


class EventModel(LocatedModel):
    """A life event (出生、死亡、婚姻、迁移、避孕、生育证件). Wrong entries are corrected or voided, never
    deleted: a void keeps the row with who, when and why (DESIGN §5)."""

    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="作废人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    void_reason = models.CharField("作废原因", max_length=200, blank=True, db_default="")

    objects = LiveEventManager()
    all_objects = LiveEventQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


LIVE = Q(voided_at__isnull=True)


class DateRange(Func):
    """``daterange(valid_from, valid_to, '[]')``: an open end (NULL) runs forever."""

    function = "DATERANGE"
    output_field = DateRangeField()


@tracked()
class Household(LocatedModel):
    """户. ``number`` is the household number (户编号) of the household register."""

    number = models.CharField("户编号", max_length=30, unique=True)
    address = models.CharField("住址", max_length=200, blank=True)

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户"
        ordering = ["number"]
        indexes = [models.Index(fields=["village"], name="household_village_idx")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("registry:household_detail", kwargs={"pk": self.pk})


@tracked()
class Person(LocatedModel):
    """人口. ``village`` is the current village of residence (现住址); its history is in ``Move``."""

    id_number = models.CharField("公民身份号码", max_length=18, null=True, blank=True)  # unique: see Meta
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=20, blank=True, default="汉族")
    hukou_type = models.CharField("户籍性质", max_length=20, choices=HukouType.choices)
    employment_type = models.CharField("就业类型", max_length=20, choices=EmploymentType.choices, blank=True)
    household = models.ForeignKey(
        Household, verbose_name="户", on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    relation_to_head = models.CharField("与户主关系", max_length=20, blank=True)
    marital_status = models.CharField("婚姻状况", max_length=20, choices=MaritalStatus.choices, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    death_date = models.DateField("死亡日期", null=True, blank=True)
    hukou_place_code = models.CharField(
        "户籍地区划代码",
        max_length=12,
        blank=True,
        db_default="",
        help_text="户口登记地的12位区划代码；留空表示现住址所在县",
    )
    is_external = models.BooleanField(
        "县外人员", default=False, db_default=False, help_text="配偶或父母不在本县登记时的简要记录，不计入本县人口"
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name="已合并至",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_records",
        help_text="同一人的重复记录合并后，被注销的记录指向保留的记录",
        db_index=False,  # a partial index in Meta: almost every record has none
    )
    version = models.PositiveIntegerField("版本", default=1, help_text="每次修改加一，用于防止并发修改互相覆盖")

    masked_fields = {"id_number": mask_id_number, "phone": mask_phone}

    class Meta:
        verbose_name = "人口"
        verbose_name_plural = "人口"
        ordering = ["village_id", "name"]
        constraints = [
            # A constraint rather than unique=True: the same index, without Django's extra LIKE-only copy.
            models.UniqueConstraint(fields=["id_number"], name="person_id_number_unique"),
            models.CheckConstraint(condition=Q(id_number__regex=ID_NUMBER_REGEX), name="person_id_number_format"),
            models.CheckConstraint(
                condition=Q(death_date__isnull=True) | Q(death_date__gte=F("birth_date")),
                name="person_death_after_birth",
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="person_sex_valid"),
        ]
        indexes = [
            # Name search by leading characters (LIKE '王%') and the likely-duplicates list (name, birth date).
            models.Index(
                fields=["name", "birth_date"], name="person_name_birth_idx", opclasses=["varchar_pattern_ops", ""]
            ),
            models.Index(fields=["village", "sex", "birth_date"], name="person_village_sex_birth_idx"),
            # Only the retired duplicates (a handful): an index over every record's NULL cost each inserted
            # person (issue 16: 7 % of an import's person writes) and served no query.
            models.Index(fields=["merged_into"], name="person_merged_into_idx", condition=Q(merged_into__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("registry:person_detail", kwargs={"pk": self.pk})

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def is_dead(self) -> bool:
        return self.death_date is not None


class MarriageKind(models.TextChoices):
    MARRIAGE = "marriage", "结婚"
    DIVORCE = "divorce", "离婚"


@tracked()
class Marriage(EventModel):
    """婚姻登记: a marriage or a divorce between two persons, located at the wife's village."""

    wife = models.ForeignKey(Person, verbose_name="女方", on_delete=models.PROTECT, related_name="marriages_as_wife")
    husband = models.ForeignKey(
        Person, verbose_name="男方", on_delete=models.PROTECT, related_name="marriages_as_husband"
    )
    kind = models.CharField("类型", max_length=10, choices=MarriageKind.choices)
    date = models.DateField("登记日期")

    class Meta:
        verbose_name = "婚姻登记"
        verbose_name_plural = "婚姻登记"
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(wife=F("husband")), name="marriage_two_persons"),
            models.UniqueConstraint(
                fields=["wife", "husband", "kind", "date"], condition=LIVE, name="marriage_live_event"
            ),
        ]
        indexes = [
            models.Index(fields=["wife", "date"], name="marriage_wife_date_idx"),
            models.Index(fields=["village", "date"], name="marriage_village_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class PolicyStatus(models.TextChoices):
    IN_POLICY = "in_policy", "政策内"
    OUT_OF_POLICY = "out_of_policy", "政策外"


class PolicyCondition(models.TextChoices):
    ALWAYS = "always", "无附加条件"
    FIRST_CHILD_FEMALE = "first_child_female", "第一个孩子为女孩"


@tracked()
class BirthPolicyRule(TimestampedModel):
    """生育政策规则: how many children a couple may have, by hukou type and circumstance, in a date range.

    The rules in force on a birth date are those with ``valid_from <= date <= valid_to``; a couple may have
    the largest ``children_allowed`` among the rules whose hukou type and condition apply.
    """

    name = models.CharField("名称", max_length=100)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    hukou_type = models.CharField(
        "适用户籍性质", max_length=20, choices=HukouType.choices, blank=True, help_text="留空表示不限"
    )
    condition = models.CharField(
        "附加条件", max_length=30, choices=PolicyCondition.choices, default=PolicyCondition.ALWAYS
    )
    children_allowed = models.PositiveSmallIntegerField("可生育子女数")
    source = models.CharField("政策依据", max_length=200, blank=True)

    class Meta:
        verbose_name = "生育政策规则"
        verbose_name_plural = "生育政策规则"
        ordering = ["valid_from", "hukou_type", "condition"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="policy_rule_dates",
            ),
            models.CheckConstraint(condition=Q(children_allowed__gte=1), name="policy_rule_allows_one"),
        ]

    def __str__(self) -> str:
        return self.name


class PermitKind(models.TextChoices):
    SERVICE_CERTIFICATE = "service_certificate", "生育服务证"
    SECOND_BIRTH_APPROVAL = "second_birth_approval", "再生育审批"


@tracked()
class BirthPermit(EventModel):
    """生育服务证 / 再生育审批: permission for a couple's child of a given order, issued by a township."""

    number = models.CharField("证号", max_length=40)  # unique among live permits: see Meta
    kind = models.CharField("类型", max_length=30, choices=PermitKind.choices)
    wife = models.ForeignKey(Person, verbose_name="女方", on_delete=models.PROTECT, related_name="permits")
    husband = models.ForeignKey(
        Person, verbose_name="男方", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issuing_township = models.ForeignKey(
        "areas.Area", verbose_name="发证乡镇", on_delete=models.PROTECT, related_name="+"
    )
    child_order = models.PositiveSmallIntegerField("准生孩次", default=1)
    issued_on = models.DateField("发证日期")
    valid_until = models.DateField("有效期至", null=True, blank=True)
    issued_by = models.CharField("经办人", max_length=50, blank=True)

    class Meta:
        verbose_name = "生育证件"
        verbose_name_plural = "生育证件"
        ordering = ["-issued_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("issued_on")),
                name="permit_dates",
            ),
            models.CheckConstraint(condition=Q(child_order__gte=1), name="permit_child_order_positive"),
            models.UniqueConstraint(fields=["number"], condition=LIVE, name="permit_live_number"),
        ]
        indexes = [models.Index(fields=["village", "issued_on"], name="permit_village_issued_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def covers(self, *, on: "models.DateField", order: int) -> bool:
        return (
            self.issued_on <= on
            and (self.valid_until is None or on <= self.valid_until)
            and (order <= self.child_order)
        )


@tracked()
class Birth(EventModel):
    """出生登记. ``village`` is the birthplace (出生地); ``birth_order`` (孩次) counts the mother's live births.

    ``policy_status`` (政策属性) is computed from the rule in force and any permit; staff may override it
    only with a reason, kept in the audit trail (``policy_status_computed`` keeps what the rules said).
    """

    mother = models.ForeignKey(Person, verbose_name="母亲", on_delete=models.PROTECT, related_name="births_given")
    father = models.ForeignKey(
        Person,
        verbose_name="父亲",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="births_fathered",
    )
    child = models.ForeignKey(  # one live birth per child: see Meta
        Person, verbose_name="婴儿", on_delete=models.PROTECT, related_name="births_as_child", db_index=False
    )
    date = models.DateField("出生日期")
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_order = models.PositiveSmallIntegerField("孩次")
    birth_order_given = models.PositiveSmallIntegerField("填报孩次", null=True, blank=True)
    policy_status = models.CharField("政策属性", max_length=20, choices=PolicyStatus.choices)
    policy_status_computed = models.CharField("政策属性（按规则）", max_length=20, choices=PolicyStatus.choices)
    policy_override_reason = models.CharField("政策属性调整原因", max_length=200, blank=True)
    permit = models.ForeignKey(
        BirthPermit,
        verbose_name="生育证件",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="births",
    )
    entered_on = models.DateField("登记日期")

    class Meta:
        verbose_name = "出生登记"
        verbose_name_plural = "出生登记"
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(birth_order__gte=1), name="birth_order_positive"),
            models.CheckConstraint(
                condition=Q(policy_status=F("policy_status_computed")) | ~Q(policy_override_reason=""),
                name="birth_policy_override_has_reason",
            ),
            models.CheckConstraint(condition=~Q(mother=F("child")), name="birth_mother_not_child"),
            models.UniqueConstraint(fields=["child"], condition=LIVE, name="birth_live_child"),
        ]
        indexes = [
            models.Index(fields=["mother", "date"], name="birth_mother_date_idx"),
            models.Index(fields=["village", "date"], name="birth_village_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} 第{self.birth_order}孩"

    @property
    def has_order_warning(self) -> bool:
        return self.birth_order_given is not None and self.birth_order_given != self.birth_order


@tracked()
class Death(EventModel):
    """死亡登记, located at the village of residence at death."""

    person = models.ForeignKey(  # one live death per person: see Meta
        Person, verbose_name="死者", on_delete=models.PROTECT, related_name="deaths", db_index=False
    )
    date = models.DateField("死亡日期")

    class Meta:
        verbose_name = "死亡登记"
        verbose_name_plural = "死亡登记"
        ordering = ["date", "id"]
        constraints = [models.UniqueConstraint(fields=["person"], condition=LIVE, name="death_live_person")]
        indexes = [models.Index(fields=["village", "date"], name="death_village_date_idx")]

    def __str__(self) -> str:
        return f"{self.date}"


class ContraceptiveMethod(models.TextChoices):
    IUD = "iud", "宫内节育器"
    FEMALE_STERILISATION = "female_sterilisation", "女性绝育"
    MALE_STERILISATION = "male_sterilisation", "男性绝育"
    IMPLANT = "implant", "皮下埋植"
    PILL = "pill", "口服避孕药"
    CONDOM = "condom", "避孕套"
    INJECTION = "injection", "注射"
    OTHER = "other", "其他"


# 长效避孕措施 (DESIGN §6, long_acting_share): IUD, sterilisation of either spouse, implant.
LONG_ACTING_METHODS = frozenset(
    {
        ContraceptiveMethod.IUD,
        ContraceptiveMethod.FEMALE_STERILISATION,
        ContraceptiveMethod.MALE_STERILISATION,
        ContraceptiveMethod.IMPLANT,
    }
)


@tracked()
class ContraceptiveUse(EventModel):
    """避孕措施: a method in use from ``start_date`` until ``end_date`` (open while in use)."""

    person = models.ForeignKey(
        Person, verbose_name="使用人", on_delete=models.PROTECT, related_name="contraceptive_uses"
    )
    method = models.CharField("措施", max_length=30, choices=ContraceptiveMethod.choices)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True)
    closed_by_death = models.BooleanField(
        "因死亡终止", default=False, db_default=False, help_text="结束日期由死亡登记设定；死亡登记作废时恢复为使用中"
    )

    class Meta:
        verbose_name = "避孕措施"
        verbose_name_plural = "避孕措施"
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="contraception_dates",
            ),
            models.UniqueConstraint(
                fields=["person", "method", "start_date"], condition=LIVE, name="contraception_live_start"
            ),
        ]
        indexes = [
            models.Index(fields=["person", "start_date"], name="contraception_person_idx"),
            models.Index(fields=["village", "start_date"], name="contraception_village_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.start_date}"


class MoveKind(models.TextChoices):
    MOVE_IN = "move_in", "迁入"
    MOVE_OUT = "move_out", "迁出"
    FLOAT_IN = "float_in", "流入"
    FLOAT_OUT = "float_out", "流出"


INWARD_MOVES = frozenset({MoveKind.MOVE_IN, MoveKind.FLOAT_IN})


@tracked()
class Move(EventModel):
    """迁移流动: a move between two areas. ``village`` is the county-side end (the destination of a move in,
    the origin of a move out), so each township sees its own arrivals and departures."""

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="moves")
    kind = models.CharField("类型", max_length=20, choices=MoveKind.choices)
    date = models.DateField("日期")
    origin_code = models.CharField("原区划代码", max_length=12)
    destination_code = models.CharField("现区划代码", max_length=12)
    certificate_number = models.CharField("婚育证明号", max_length=40, blank=True)

    class Meta:
        verbose_name = "迁移流动"
        verbose_name_plural = "迁移流动"
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(origin_code__regex=AREA_CODE_REGEX), name="move_origin_code"),
            models.CheckConstraint(condition=Q(destination_code__regex=AREA_CODE_REGEX), name="move_destination_code"),
            models.CheckConstraint(condition=~Q(origin_code=F("destination_code")), name="move_changes_place"),
            models.UniqueConstraint(fields=["person", "kind", "date"], condition=LIVE, name="move_live_event"),
        ]
        indexes = [
            models.Index(fields=["person", "date"], name="move_person_date_idx"),
            models.Index(fields=["village", "date"], name="move_village_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class PlausibilityCode(models.TextChoices):
    MOTHER_AGE_AT_BIRTH = "mother_age_at_birth", "母亲生育年龄"
    MARRIAGE_AGE = "marriage_age", "法定婚龄"
    BIRTH_SPACING = "birth_spacing", "生育间隔"
    MARRIAGE_WHILE_MARRIED = "marriage_while_married", "已婚者再登记结婚"
    REPEATED_MARRIAGE_SAME_COUPLE = "repeated_marriage_same_couple", "同一对夫妻重复登记结婚"
    EVENT_AFTER_DEPARTURE = "event_after_departure", "迁出（流出）本县后的登记"
    EVENT_AFTER_DEATH = "event_after_death", "死亡后的登记"
    DESTINATION_CODE = "destination_code", "迁移区划代码"


class PlausibilityAction(models.TextChoices):
    REFUSE = "refuse", "拒绝录入"
    HOLD = "hold", "提示，经核实确认后录入"


# The numbers each rule reads from ``parameters`` (all optional: a missing bound does not apply).
PLAUSIBILITY_PARAMETERS: dict[str, dict[str, str]] = {
    PlausibilityCode.MOTHER_AGE_AT_BIRTH: {"min_age": "最低年龄（周岁）", "max_age": "最高年龄（周岁）"},
    PlausibilityCode.MARRIAGE_AGE: {"min_age_female": "女方最低婚龄（周岁）", "min_age_male": "男方最低婚龄（周岁）"},
    PlausibilityCode.BIRTH_SPACING: {
        "min_days": "同一母亲两次生育的最短间隔（天）",
        "same_delivery_days": "相隔不超过此天数视为同一次分娩（多胞胎）",
    },
    PlausibilityCode.MARRIAGE_WHILE_MARRIED: {},
    PlausibilityCode.REPEATED_MARRIAGE_SAME_COUPLE: {},
    PlausibilityCode.EVENT_AFTER_DEPARTURE: {"move_kinds": "视为离开本县的迁移类型（列表）"},
    PlausibilityCode.EVENT_AFTER_DEATH: {"father_grace_days": "父亲死亡后仍可登记出生的天数"},
    PlausibilityCode.DESTINATION_CODE: {"province_min": "外县代码省级前两位最小值", "province_max": "最大值"},
}


@tracked()
class PlausibilityRule(TimestampedModel):
    """Plausibility rule (合理性规则): a check of an entry against the registry, dated and editable data
    (DESIGN §5), never a constant in code. ``action`` says whether a finding refuses the entry or holds it
    until the clerk confirms it; forms, the API and imports apply the same rows (``registry.plausibility``).

    Parameters by ``code`` (``PLAUSIBILITY_PARAMETERS``): mother's age at a birth ``min_age``/``max_age``;
    legal marriage age ``min_age_female``/``min_age_male``; birth spacing ``min_days``, births up to
    ``same_delivery_days`` apart being one delivery (twins either side of midnight); a marriage while
    married to someone else and a repeated marriage of the same couple with no divorce between (no
    parameters); an event after the person left the county, i.e. the latest earlier move
    is one of ``move_kinds`` to a place outside the county's villages; an event after death, with
    ``father_grace_days`` for a father; a move code that is neither a village of this county nor a
    well-formed code of another county (province digits ``province_min``–``province_max``).

    One row per code and action in force on a day (an exclusion constraint), so a refusal bound and a
    softer warning bound live side by side (mother's age below 14 refused, 14–17 held; a marriage below 18
    refused, below the legal age 女20/男22 held).
    """

    code = models.CharField("规则", max_length=40, choices=PlausibilityCode.choices)
    action = models.CharField("处理方式", max_length=10, choices=PlausibilityAction.choices)
    valid_from = models.DateField("生效日期", help_text="按事件日期适用")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    parameters = models.JSONField("参数", default=dict, blank=True, help_text='例：{"min_age": 14, "max_age": 60}')
    basis = models.CharField("依据或说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "合理性规则"
        verbose_name_plural = "合理性规则"
        ordering = ["code", "action", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="plausibility_rule_dates",
            ),
            models.CheckConstraint(condition=Q(code__in=PlausibilityCode.values), name="plausibility_rule_code"),
            models.CheckConstraint(condition=Q(action__in=PlausibilityAction.values), name="plausibility_rule_action"),
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()}（{self.get_action_display()}，{self.valid_from}起）"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        known = PLAUSIBILITY_PARAMETERS.get(self.code, {})
        if not isinstance(self.parameters, dict):
            raise ValidationError({"parameters": "参数应为JSON对象"})
        unknown = sorted(set(self.parameters) - set(known))
        if unknown:
            raise ValidationError(
                {"parameters": f"该规则没有参数{'、'.join(unknown)}；可用参数：{'、'.join(known) or '无'}"}
            )
        for key, value in self.parameters.items():
            if key == "move_kinds":
                if not isinstance(value, list) or not set(value) <= set(MoveKind.values):
                    raise ValidationError({"parameters": f"move_kinds应为迁移类型列表：{'、'.join(MoveKind.values)}"})
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValidationError({"parameters": f"参数{key}应为非负整数"})
        # One row of a rule and action in force on any day, so that a date's rule is never ambiguous (checked
        # here rather than by an exclusion constraint: comparing the code with = in one needs btree_gist,
        # which the embedded PostgreSQL does not ship).
        end = self.valid_to or date.max
        overlapping = PlausibilityRule.objects.filter(code=self.code, action=self.action).exclude(pk=self.pk)
        overlapping = overlapping.filter(valid_from__lte=end).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from)
        )
        if self.valid_from and overlapping.exists():
            raise ValidationError({"valid_from": "与同一规则、同一处理方式的另一条记录的有效期重叠"})


class QualityList(models.TextChoices):
    """The data-quality lists (数据质量清单): the seeds' recurring registry errors."""

    DUPLICATES = "duplicates", "疑似重复人员（姓名、出生日期相同）"
    MARRIED_OUT = "married_out", "外嫁未迁出（与外乡镇男方结婚后无迁移记录）"
    MOTHER_AGE = "mother_age", "母亲生育年龄异常（不满15岁或超过50岁）"
    CHILD_BEFORE_PARENT = "child_before_parent", "子女出生日期早于父母"
    STALE_FLOATING = "stale_floating", "流动人口信息长期未更新"


class QualityFinding(models.Model):
    """数据质量问题: one record (a person, marriage, birth or move, by ``object_id``) on one list, as the last
    refresh found it; located at the record's village so the lists are read through the area scope. Derived
    data, rebuilt by ``apps.registry.quality`` (not audited: the records themselves are)."""

    list_key = models.CharField("清单", max_length=30, choices=QualityList.choices)
    object_id = models.BigIntegerField("记录编号")
    village = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    event_date = models.DateField("日期", null=True, help_text="人员的出生日期，或事件的日期")
    found_at = models.DateTimeField("发现时间")

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "数据质量问题"
        verbose_name_plural = "数据质量问题"
        constraints = [models.UniqueConstraint(fields=["list_key", "object_id"], name="quality_finding_unique")]
        indexes = [models.Index(fields=["list_key", "village"], name="quality_finding_list_area")]

    def __str__(self) -> str:
        return f"{self.get_list_key_display()} #{self.object_id}"


class QualityRefresh(models.Model):
    """The last refresh of the data-quality lists (质量清单统计时间): one row. ``change_seen`` is the value of the
    registry's change counter (a sequence every write to persons, births, marriages and moves advances, bulk
    imports included) when the refresh began; a higher counter means the lists may be out of date."""

    refreshed_at = models.DateTimeField("统计时间")
    change_seen = models.BigIntegerField("变更计数")
    seconds = models.FloatField("用时（秒）", default=0)

    class Meta:
        verbose_name = "数据质量清单统计"
        verbose_name_plural = "数据质量清单统计"

    def __str__(self) -> str:
        return f"数据质量清单统计（{self.refreshed_at:%Y-%m-%d %H:%M}）"
