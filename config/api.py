"""The REST API under /api/v1/ (DESIGN §8): every app registers its viewsets on this router."""

from django.conf import settings
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import BaseThrottle

from apps.areas.api import AreaViewSet
from apps.core.clientip import login_rate_limited
from apps.fees.api import FeeCaseViewSet, PaymentViewSet
from apps.imports.api import ImportJobViewSet
from apps.indicators.api import IndicatorValueViewSet, SubmissionViewSet
from apps.reconciliation.api import EstimateViewSet, OutsideBirthViewSet
from apps.registry.api import (
    BirthPermitViewSet,
    BirthViewSet,
    ContraceptionViewSet,
    DeathViewSet,
    HouseholdViewSet,
    MarriageViewSet,
    MoveViewSet,
    PersonViewSet,
)
from apps.scoring.api import AssessmentViewSet, SchemeViewSet
from apps.subsidies.api import ChildcareApplicationViewSet, PaymentBatchViewSet, ProgrammeViewSet, RosterViewSet

router = DefaultRouter()
router.register("areas", AreaViewSet, basename="area")
router.register("persons", PersonViewSet, basename="person")
router.register("households", HouseholdViewSet, basename="household")
router.register("births", BirthViewSet, basename="birth")
router.register("deaths", DeathViewSet, basename="death")
router.register("marriages", MarriageViewSet, basename="marriage")
router.register("contraception", ContraceptionViewSet, basename="contraception")
router.register("moves", MoveViewSet, basename="move")
router.register("permits", BirthPermitViewSet, basename="permit")
router.register("imports", ImportJobViewSet, basename="import")
router.register("indicators/values", IndicatorValueViewSet, basename="indicator-value")
router.register("indicators/submissions", SubmissionViewSet, basename="indicator-submission")
router.register("fees/cases", FeeCaseViewSet, basename="fee-case")
router.register("fees/payments", PaymentViewSet, basename="fee-payment")
router.register("subsidies/programmes", ProgrammeViewSet, basename="subsidy-programme")
router.register("subsidies/rosters", RosterViewSet, basename="subsidy-roster")
router.register("subsidies/batches", PaymentBatchViewSet, basename="subsidy-batch")
router.register(
    "subsidies/childcare-applications", ChildcareApplicationViewSet, basename="subsidy-childcare-application"
)
router.register("reconciliation/records", OutsideBirthViewSet, basename="reconciliation-record")
router.register("reconciliation/estimates", EstimateViewSet, basename="reconciliation-estimate")
router.register("scoring/schemes", SchemeViewSet, basename="scoring-scheme")
router.register("scoring/assessments", AssessmentViewSet, basename="scoring-assessment")


class LoginAddressThrottle(BaseThrottle):
    """The per-address budget of login attempts, shared with the login form (apps/core/clientip.py)."""

    def allow_request(self, request, view):
        return not login_rate_limited(request)

    def wait(self):
        return settings.LOGIN_RATE_WINDOW_SECONDS


class TokenView(ObtainAuthToken):
    """Exchange a user name and password for an API token (rate-limited per address; failures count towards
    the lockout of that user name from that address)."""

    throttle_classes = [LoginAddressThrottle]
