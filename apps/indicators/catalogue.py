"""The indicator catalogue (指标目录): every indicator of DESIGN §6 with its Chinese name, unit and formula.

Every stored value keeps its numerator and denominator; ``scale`` turns them into the value
(value = numerator / denominator × scale). A count (``scale is None``) is its numerator; its denominator is
stored as 1 at every level. A parent area's value comes from the summed numerators and denominators of its
villages, never from averaging rates.

Ages are completed years on a date (a person born on 29 February turns a year older on 1 March in other
years, as ``registry.rules.age_birth_bounds`` and PostgreSQL's ``age()`` both count). The population groups
(0–2, 0–14, 15–64, 60+, 65+, women 15–49 and their 5-year groups) count the population of §6 (born on or before
the date, not dead, resident in the area) by age on the period's last day; an "average" group is (the group on
the day before the period + the group on its last day) / 2, each counted by age on its own date. Rates over a
period shorter than a year are the period's own, not annualised, like the birth rate (a quarter's general
fertility rate or TFR is about a quarter of the year's).

The total fertility rate is the one indicator that is not a numerator over a denominator that can be summed:
it is 5 × the sum of the seven age-specific fertility rates, each of which is stored with its own numerator and
denominator (``asfr_15_19`` … ``asfr_45_49``). Every area's TFR, villages included, is computed from those
stored components, so a parent's TFR comes from its children's summed births and women per age group.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class Unit:
    PER_MILLE = "‰"
    PERCENT = "%"
    RATIO = "ratio"
    COUNT = "count"
    PER_WOMAN = "per_woman"


UNIT_LABELS = {
    Unit.PER_MILLE: "‰",
    Unit.PERCENT: "%",
    Unit.RATIO: "女=100",
    Unit.COUNT: "人",
    Unit.PER_WOMAN: "孩/妇女",
}
_SCALES = {
    Unit.PER_MILLE: Decimal(1000),
    Unit.PERCENT: Decimal(100),
    Unit.RATIO: Decimal(100),
    Unit.COUNT: None,
    Unit.PER_WOMAN: Decimal(1),
}

# The seven 5-year age groups of mothers (age at the birth date) and of women (age on each date) behind the
# age-specific fertility rates and the TFR.
FERTILITY_AGE_GROUPS: tuple[tuple[int, int], ...] = tuple((a, a + 4) for a in range(15, 50, 5))
ASFR_CODES: tuple[str, ...] = tuple(f"asfr_{low}_{high}" for low, high in FERTILITY_AGE_GROUPS)
TFR_CODE = "total_fertility_rate"


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
    card: bool = False  # shown on the dashboard's second row of cards (人口结构与生育水平), not ranked
    components: tuple[str, ...] = ()  # computed from these indicators' stored values (the TFR), not summed

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
        "政策内出生数 ÷ 出生人数 × 100；只计生育政策考核截止日（指标适用期，按日期配置）及以前的出生，"
        "报表期始于该日之后为不适用",
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
    Indicator(
        "second_birth_rate",
        "二孩率",
        Unit.PERCENT,
        "二孩出生数 ÷ 出生人数 × 100（与一孩率、多孩率一起为按孩次的出生构成；孩次由登记系统计算）",
        "二孩出生数",
        "出生人数",
        card=True,
    ),
    Indicator(
        "children_0_2",
        "0–2岁儿童数",
        Unit.COUNT,
        "期末最后一天常住人口中0、1、2周岁者（出生于期末前3年之后、期末当日及以前；育儿补贴的对象人群）",
        "0–2岁儿童数",
        "—",
        card=True,
        trend=True,
    ),
    Indicator("population_60plus", "60岁及以上人口", Unit.COUNT, "期末常住人口中60周岁及以上者", "60岁及以上人口", "—"),
    Indicator("population_65plus", "65岁及以上人口", Unit.COUNT, "期末常住人口中65周岁及以上者", "65岁及以上人口", "—"),
    Indicator(
        "share_60plus",
        "60岁及以上人口比重",
        Unit.PERCENT,
        "期末60周岁及以上人口 ÷ 期末人口 × 100",
        "60岁及以上人口",
        "期末人口",
        card=True,
    ),
    Indicator(
        "share_65plus",
        "65岁及以上人口比重",
        Unit.PERCENT,
        "期末65周岁及以上人口 ÷ 期末人口 × 100",
        "65岁及以上人口",
        "期末人口",
        card=True,
        trend=True,
    ),
    Indicator(
        "old_age_dependency_ratio",
        "老年抚养比",
        Unit.PERCENT,
        "期末65周岁及以上人口 ÷ 期末15–64周岁人口 × 100",
        "65岁及以上人口",
        "15–64岁人口",
        card=True,
    ),
    Indicator(
        "child_dependency_ratio",
        "少儿抚养比",
        Unit.PERCENT,
        "期末0–14周岁人口 ÷ 期末15–64周岁人口 × 100",
        "0–14岁人口",
        "15–64岁人口",
        card=True,
    ),
    Indicator(
        "general_fertility_rate",
        "一般生育率",
        Unit.PER_MILLE,
        "出生人数 ÷ 15–49周岁平均妇女人数 × 1000（平均妇女人数 =（期初前一日 + 期末）÷ 2，各按当日年龄；不折算年率）",
        "出生人数",
        "15–49岁平均妇女人数",
        card=True,
        trend=True,
    ),
    *(
        Indicator(
            code,
            f"{low}–{high}岁年龄别生育率",
            Unit.PER_MILLE,
            f"生育时{low}–{high}周岁的母亲所生出生人数 ÷ {low}–{high}周岁平均妇女人数 × 1000（按出生地；不折算年率）",
            f"{low}–{high}岁母亲出生数",
            f"{low}–{high}岁平均妇女人数",
        )
        for code, (low, high) in zip(ASFR_CODES, FERTILITY_AGE_GROUPS, strict=True)
    ),
    Indicator(
        TFR_CODE,
        "总和生育率",
        Unit.PER_WOMAN,
        "5 × ∑ 15–19岁至45–49岁七个年龄组的年龄别生育率（‰）÷ 1000；上级区划由下级各年龄组出生数、"
        "平均妇女人数分别加总后计算；某年龄组无妇女时该组不计；不折算年率",
        "每千名妇女终身生育数（5 × ∑ 年龄别生育率‰）",
        "1000名妇女",
        card=True,
        trend=True,
        components=ASFR_CODES,
    ),
)

BY_CODE: dict[str, Indicator] = {i.code: i for i in INDICATORS}
DERIVED_CODES: tuple[str, ...] = tuple(i.code for i in INDICATORS if i.components)
CODES: tuple[str, ...] = tuple(BY_CODE)


def indicator_get(code: str) -> Indicator:
    return BY_CODE[code]
