"""The indicator catalogue (指标目录): every indicator of DESIGN §6 with its Chinese name, unit and formula.

Every stored value keeps its numerator and denominator; ``scale`` turns them into the value
(value = numerator / denominator × scale). A count (``scale is None``) is its numerator; its denominator is
stored as 1 at every level. A parent area's value comes from the summed numerators and denominators of its
villages, never from averaging rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class Unit:
    PER_MILLE = "‰"
    PERCENT = "%"
    RATIO = "ratio"
    COUNT = "count"


UNIT_LABELS = {Unit.PER_MILLE: "‰", Unit.PERCENT: "%", Unit.RATIO: "女=100", Unit.COUNT: "人"}
_SCALES = {Unit.PER_MILLE: Decimal(1000), Unit.PERCENT: Decimal(100), Unit.RATIO: Decimal(100), Unit.COUNT: None}


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str  # Chinese name, as on the county's report forms
    unit: str
    formula: str
    numerator_label: str
    denominator_label: str
    source: str = ""  # a registered source (sources.py) instead of the registry
    key: bool = False  # shown on the dashboard cards and the township ranking
    trend: bool = False  # has a quarterly trend chart

    @property
    def scale(self) -> Decimal | None:
        return _SCALES[self.unit]

    @property
    def is_count(self) -> bool:
        return self.unit == Unit.COUNT

    @property
    def unit_label(self) -> str:
        return UNIT_LABELS[self.unit]


INDICATORS: tuple[Indicator, ...] = (
    Indicator("births", "出生人数", Unit.COUNT, "报告期内出生登记数（按出生地）", "出生人数", "—", key=True),
    Indicator("deaths", "死亡人数", Unit.COUNT, "报告期内死亡登记数（按死亡登记地）", "死亡人数", "—"),
    Indicator("population_end", "期末人口", Unit.COUNT, "期末最后一天的常住人口", "期末人口", "—", key=True),
    Indicator(
        "birth_rate",
        "出生率",
        Unit.PER_MILLE,
        "出生人数 ÷ 平均人口 × 1000",
        "出生人数",
        "平均人口",
        key=True,
        trend=True,
    ),
    Indicator("death_rate", "死亡率", Unit.PER_MILLE, "死亡人数 ÷ 平均人口 × 1000", "死亡人数", "平均人口"),
    Indicator(
        "natural_growth_rate",
        "自然增长率",
        Unit.PER_MILLE,
        "（出生人数 − 死亡人数）÷ 平均人口 × 1000",
        "出生人数−死亡人数",
        "平均人口",
        key=True,
    ),
    Indicator(
        "sex_ratio_at_birth",
        "出生人口性别比",
        Unit.RATIO,
        "男婴数 ÷ 女婴数 × 100（女=100；无女婴时不计算）",
        "男婴数",
        "女婴数",
        key=True,
        trend=True,
    ),
    Indicator(
        "sex_ratio_parity2", "二孩性别比", Unit.RATIO, "二孩男婴数 ÷ 二孩女婴数 × 100", "二孩男婴数", "二孩女婴数"
    ),
    Indicator(
        "sex_ratio_parity3plus", "多孩性别比", Unit.RATIO, "多孩男婴数 ÷ 多孩女婴数 × 100", "多孩男婴数", "多孩女婴数"
    ),
    Indicator(
        "policy_compliance_rate",
        "出生政策符合率",
        Unit.PERCENT,
        "政策内出生数 ÷ 出生人数 × 100",
        "政策内出生数",
        "出生人数",
        key=True,
        trend=True,
    ),
    Indicator("first_birth_rate", "一孩率", Unit.PERCENT, "一孩出生数 ÷ 出生人数 × 100", "一孩出生数", "出生人数"),
    Indicator(
        "multi_birth_rate",
        "多孩率",
        Unit.PERCENT,
        "三孩及以上出生数 ÷ 出生人数 × 100",
        "多孩出生数",
        "出生人数",
        key=True,
    ),
    Indicator("married_wra", "已婚育龄妇女", Unit.COUNT, "期末常住的15–49岁已婚妇女数", "已婚育龄妇女数", "—"),
    Indicator(
        "contraceptive_prevalence",
        "综合避孕率",
        Unit.PERCENT,
        "期末本人或配偶正在使用避孕措施的已婚育龄妇女数 ÷ 已婚育龄妇女数 × 100",
        "落实避孕措施数",
        "已婚育龄妇女数",
        key=True,
        trend=True,
    ),
    Indicator(
        "long_acting_share",
        "长效避孕措施比例",
        Unit.PERCENT,
        "使用宫内节育器、绝育（男方或女方）或皮下埋植者 ÷ 落实避孕措施数 × 100",
        "长效措施数",
        "落实避孕措施数",
    ),
    Indicator(
        "fee_collection_rate",
        "社会抚养费征收到位率",
        Unit.PERCENT,
        "报告期内决定的社会抚养费实收金额 ÷ 决定征收金额 × 100",
        "实收金额（元）",
        "决定金额（元）",
        source="fee_collection_rate",
    ),
    Indicator(
        "subsidy_payment_rate",
        "奖励扶助资金兑现率",
        Unit.PERCENT,
        "报告期内实发金额 ÷ 应发金额 × 100",
        "实发金额（元）",
        "应发金额（元）",
        source="subsidy_payment_rate",
    ),
    Indicator(
        "record_completeness_rate",
        "全员人口信息完整率",
        Unit.PERCENT,
        "身份证号有效且姓名、性别、出生日期、现住址、户、户籍性质齐全的期末人口 ÷ 期末人口 × 100",
        "信息完整人数",
        "期末人口",
        key=True,
    ),
    Indicator(
        "birth_registration_timeliness",
        "出生登记及时率",
        Unit.PERCENT,
        "出生后规定时限内（出生登记时限，按生效日期取自配置）登记的出生数 ÷ 出生人数 × 100",
        "及时登记数",
        "出生人数",
        key=True,
    ),
)

BY_CODE: dict[str, Indicator] = {i.code: i for i in INDICATORS}
CODES: tuple[str, ...] = tuple(BY_CODE)


def indicator_get(code: str) -> Indicator:
    return BY_CODE[code]
