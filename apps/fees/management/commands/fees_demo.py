from apps.core.management.base import JsonSummaryCommand
from apps.fees.demo import fees_demo_ensure


class Command(JsonSummaryCommand):
    help = (
        "Demo 社会抚养费 cases after seed_demo and seed_demo_users: a few cases of the years before the fee's end, "
        "paid or terminated, one to review after its birth was voided (does nothing when any case exists)."
    )

    def run(self, *args, **options) -> dict:
        return fees_demo_ensure()
