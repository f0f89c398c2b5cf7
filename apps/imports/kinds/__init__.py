"""The kinds of sheet of DESIGN §8: the registry's six here; an app above imports registers its own
(``kind_register``, e.g. subsidies' ``childcare_applications``) from its ``AppConfig.ready``."""

from apps.imports.engine import KindSpec
from apps.imports.kinds.births import BirthsSpec
from apps.imports.kinds.contraception import ContraceptionSpec
from apps.imports.kinds.deaths import DeathsSpec
from apps.imports.kinds.marriages import MarriagesSpec
from apps.imports.kinds.moves import MovesSpec
from apps.imports.kinds.persons import PersonsSpec

SPECS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (PersonsSpec(), BirthsSpec(), DeathsSpec(), MarriagesSpec(), ContraceptionSpec(), MovesSpec())
}


def kind_register(spec: KindSpec) -> None:
    SPECS[spec.kind] = spec


def spec_for(kind: str) -> KindSpec:
    from apps.core.errors import RuleViolation

    try:
        return SPECS[kind]
    except KeyError:
        raise RuleViolation(f"不支持的导入类型：{kind}", field="kind") from None
