from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "apps.reconciliation"
    label = "reconciliation"
    verbose_name = "部门数据比对"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register
        from apps.imports.kinds import kind_register
        from apps.reconciliation.import_kinds import HospitalBirthsSpec, PoliceBirthsSpec

        # The hospitals' and the police's lists (DESIGN §8): imports sits below us, so we register them.
        kind_register(HospitalBirthsSpec())
        kind_register(PoliceBirthsSpec())
        nav_register(NavItem("出生漏报比对", "reconciliation:estimate", order=45))
