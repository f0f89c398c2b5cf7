from django.apps import AppConfig


class FeesConfig(AppConfig):
    name = "apps.fees"
    label = "fees"
    verbose_name = "社会抚养费"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register
        from apps.fees.selectors import FEE_COLLECTION_RECORDS
        from apps.indicators.sources import source_register

        # fee_collection_rate of the indicator reports comes from this app (indicators never imports it).
        source_register("fee_collection_rate", FEE_COLLECTION_RECORDS, link="fees:case_detail")
        nav_register(NavItem("社会抚养费", "fees:case_list", order=40))
        nav_register(NavItem("征收台账", "fees:ledger", order=41))
