"""Parsing and checking a scheme file (the format of ``shared/reference/scheme_township_1000.yaml``).

``scheme_parse`` turns the YAML text into plain rows and refuses, in Chinese and naming the item, anything
that would make a scheme wrong: a parent whose points differ from its children's sum, an indicator item
without indicator or scoring, a linear item without a floor, an unknown veto effect or adjustment kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import yaml

from apps.core.errors import RuleViolation
from apps.indicators.catalogue import BY_CODE
from apps.scoring.calculation import fmt
from apps.scoring.models import AdjustmentKind, IndicatorScoring, ItemMethod, VetoEffect

ITEM_CODE_RE = re.compile(r"^[a-z0-9_.]+$")
SCHEME_CODE_RE = re.compile(r"^[a-z0-9_.\-]+$")

# The indicator codes of DESIGN §6, as the indicators app defines them.
INDICATOR_CODES = frozenset(BY_CODE)


@dataclass
class ParsedItem:
    code: str
    name: str
    path: str
    depth: int
    points: Decimal
    method: str
    indicator_code: str = ""
    scoring: str = ""
    floor: Decimal | None = None
    veto: str = ""
    children: list[ParsedItem] = field(default_factory=list)


@dataclass
class ParsedRule:
    direction: str
    code: str
    name: str
    kind: str
    points: Decimal | None = None
    tiers: list[Decimal] = field(default_factory=list)
    min_points: Decimal | None = None
    max_points: Decimal | None = None
    unreported_multiplier: Decimal | None = None


@dataclass
class ParsedScheme:
    code: str
    name: str
    applies_to: str
    assessed_in_month: int | None
    lines: list[ParsedItem]
    rules: list[ParsedRule]
    results: dict

    @property
    def total_points(self) -> Decimal:
        return sum((line.points for line in self.lines), Decimal(0))


def _number(value, *, where: str, what: str = "分值") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RuleViolation(f"{where}的{what}应为数字")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RuleViolation(f"{where}的{what}应为数字") from None
    if not number.is_finite() or number <= 0:
        raise RuleViolation(f"{where}的{what}应大于0")
    return number


def _text(node: dict, key: str, *, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(f"{where}缺少{ {'code': '代码', 'name': '名称'}.get(key, key) }（{key}）")
    return value.strip()


def _item(node, *, parent_path: str, depth: int, seen: set[str]) -> ParsedItem:
    where = f"「{parent_path}」下的项目" if parent_path else "考核线"
    if not isinstance(node, dict):
        raise RuleViolation(f"{where}格式不正确：每个项目应包含code、name、points")
    code = _text(node, "code", where=where)
    path = f"{parent_path}/{code}" if parent_path else code
    if not ITEM_CODE_RE.match(code):
        raise RuleViolation(f"项目「{path}」的代码只能包含小写字母、数字、下划线和点")
    if code in seen:
        raise RuleViolation(f"项目代码「{code}」重复（{path}）")
    seen.add(code)
    name = _text(node, "name", where=f"项目「{path}」")
    label = f"项目「{path}（{name}）」"
    points = _number(node.get("points"), where=label)
    veto = node.get("veto") or ""
    if veto not in VetoEffect.values:
        raise RuleViolation(f"{label}的一票否决方式「{veto}」无效，应为exclude_unit、zero_line或zero_item")
    children_nodes = node.get("items")
    if children_nodes is not None:
        if not isinstance(children_nodes, list) or not children_nodes:
            raise RuleViolation(f"{label}的下级项目（items）应为非空列表")
        if node.get("method"):
            raise RuleViolation(f"{label}有下级项目，不能再指定计分方式（method）")
        if veto:
            raise RuleViolation(f"{label}有下级项目，一票否决只能设在具体指标项目上")
        children = [_item(c, parent_path=path, depth=depth + 1, seen=seen) for c in children_nodes]
        total = sum((c.points for c in children), Decimal(0))
        if total != points:
            raise RuleViolation(
                f"{label}的分值为{fmt(points)}分，但其下级项目合计为{fmt(total)}分，两者必须相等",
                code="points_mismatch",
            )
        return ParsedItem(code, name, path, depth, points, ItemMethod.GROUP, children=children)
    if depth == 0:
        raise RuleViolation(f"考核线「{path}（{name}）」没有考核项目（items）")
    method = node.get("method")
    if method == ItemMethod.MANUAL:
        if veto:
            raise RuleViolation(f"{label}为人工评分，一票否决只能设在指标计分项目上")
        return ParsedItem(code, name, path, depth, points, ItemMethod.MANUAL)
    if method != ItemMethod.INDICATOR:
        raise RuleViolation(f"{label}的计分方式「{method or ''}」无效，应为manual或indicator")
    indicator = node.get("indicator")
    if indicator not in INDICATOR_CODES:
        raise RuleViolation(f"{label}的指标代码「{indicator or ''}」不是已定义的指标")
    scoring = node.get("scoring")
    if scoring not in IndicatorScoring.values:
        raise RuleViolation(f"{label}的指标计分规则「{scoring or ''}」无效，应为all_or_nothing或linear")
    floor = None
    if scoring == IndicatorScoring.LINEAR:
        if node.get("floor") is None:
            raise RuleViolation(f"{label}为线性计分，须指定零分线（floor）")
        floor = Decimal(str(node["floor"])) if isinstance(node["floor"], (int, float)) else None
        if floor is None:
            raise RuleViolation(f"{label}的零分线（floor）应为数字")
    return ParsedItem(code, name, path, depth, points, ItemMethod.INDICATOR, indicator, scoring, floor, veto)


def _rule(node, *, direction: str, seen: set[str]) -> ParsedRule:
    what = "加分项目" if direction == "bonus" else "扣分项目"
    if not isinstance(node, dict):
        raise RuleViolation(f"{what}格式不正确")
    code = _text(node, "code", where=what)
    if code in seen:
        raise RuleViolation(f"加减分项目代码「{code}」重复")
    seen.add(code)
    name = _text(node, "name", where=f"{what}「{code}」")
    label = f"{what}「{code}（{name}）」"
    kind = node.get("kind")
    rule = ParsedRule(direction, code, name, kind)
    if kind in (AdjustmentKind.FIXED, AdjustmentKind.PER_CASE):
        rule.points = _number(node.get("points"), where=label)
        if kind == AdjustmentKind.PER_CASE and node.get("unreported_multiplier") is not None:
            rule.unreported_multiplier = _number(node["unreported_multiplier"], where=label, what="未如实上报倍数")
    elif kind == AdjustmentKind.TIERED:
        tiers = node.get("tiers")
        if not isinstance(tiers, list) or not tiers:
            raise RuleViolation(f"{label}为分档计分，须列出分档（tiers）")
        rule.tiers = [_number(t, where=label, what="分档") for t in tiers]
    elif kind == AdjustmentKind.RANGE:
        rule.min_points = _number(node.get("min"), where=label, what="最低分值")
        rule.max_points = _number(node.get("max"), where=label, what="最高分值")
        if rule.max_points < rule.min_points:
            raise RuleViolation(f"{label}的最高分值小于最低分值")
    else:
        raise RuleViolation(f"{label}的计分方式「{kind or ''}」无效，应为fixed、tiered、range或per_case")
    return rule


def scheme_parse(text: str) -> ParsedScheme:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第{mark.line + 1}行）" if mark else ""
        raise RuleViolation(f"考核方案文件不是有效的YAML格式{where}") from None
    if not isinstance(data, dict):
        raise RuleViolation("考核方案文件格式不正确：应包含code、name、lines")
    code = _text(data, "code", where="考核方案")
    if not SCHEME_CODE_RE.match(code):
        raise RuleViolation("考核方案代码只能包含小写字母、数字、下划线、点和短横线")
    name = _text(data, "name", where="考核方案")
    month = data.get("assessed_in_month")
    if month is not None and (not isinstance(month, int) or not 1 <= month <= 12):
        raise RuleViolation("考核方案的全面考核月份（assessed_in_month）应为1至12")
    lines_nodes = data.get("lines")
    if not isinstance(lines_nodes, list) or not lines_nodes:
        raise RuleViolation("考核方案没有考核线（lines）")
    seen: set[str] = set()
    lines = [_item(node, parent_path="", depth=0, seen=seen) for node in lines_nodes]
    adjustments = data.get("adjustments") or {}
    if not isinstance(adjustments, dict):
        raise RuleViolation("加减分（adjustments）格式不正确")
    seen_rules: set[str] = set()
    rules = [_rule(n, direction="bonus", seen=seen_rules) for n in adjustments.get("bonuses") or []]
    rules += [_rule(n, direction="deduction", seen=seen_rules) for n in adjustments.get("deductions") or []]
    results = data.get("results") if isinstance(data.get("results"), dict) else {}
    return ParsedScheme(code, name, str(data.get("applies_to") or "township"), month, lines, rules, results)
