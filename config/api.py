"""The REST API under /api/v1/ (DESIGN §8): every app registers its viewsets on this router."""

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import ScopedRateThrottle

from apps.areas.api import AreaViewSet

router = DefaultRouter()
router.register("areas", AreaViewSet, basename="area")


class TokenView(ObtainAuthToken):
    """Exchange a user name and password for an API token (rate-limited; failures count towards lockout)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
