from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "apps.subsidies"
    label = "subsidies"
    verbose_name = "奖励扶助"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register
        from apps.imports.kinds import kind_register
        from apps.indicators.sources import source_register
        from apps.registry.demo import demo_extension_register
        from apps.subsidies.childcare_demo import childcare_demo_applications
        from apps.subsidies.import_kind import ChildcareApplicationsSpec
        from apps.subsidies.selectors import SUBSIDY_PAYMENT_RECORDS

        # subsidy_payment_rate of the indicator reports comes from this app (indicators never imports it).
        source_register("subsidy_payment_rate", SUBSIDY_PAYMENT_RECORDS)
        demo_extension_register("childcare_applications", childcare_demo_applications)
        kind_register(ChildcareApplicationsSpec())  # the childcare_applications sheet (imports sits below us)
        nav_register(NavItem("奖扶名册", "subsidies:roster_list", order=60))
        nav_register(
            NavItem(
                "发放批次",
                "subsidies:batch_list",
                order=61,
            )
        )
        nav_register(NavItem("育儿补贴申领", "subsidies:childcare_list", order=62))
