import os

from apps.accounts.demo import demo_staff_ensure, demo_users_ensure
from apps.core.management.base import JsonSummaryCommand


class Command(JsonSummaryCommand):
    help = "Create one demo user per role on the demo county (password from DEMO_PASSWORD or --password)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "demo-county-2026"))

    def run(self, *args, password: str, **options) -> dict:
        logins = demo_users_ensure(password=password)
        for login in logins:
            self.stdout.write(f"  {login['username']:<18} {','.join(login['roles']):<34} {login['area']}")
        self.stdout.write(f"  password for all demo users: {password}")
        staff = demo_staff_ensure(password=password)
        self.stdout.write(
            "  other staff (same first password, to be changed at first login): <role>_<township digits> in every "
            "other township (e.g. subsidy_reviewer_101), village_clerk_<village digits> in every village of the "
            "first township (e.g. village_clerk_202)"
        )
        return {"users": len(logins), "staff_created": staff}
