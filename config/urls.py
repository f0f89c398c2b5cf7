from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.views import healthz
from config.api import TokenView, router

handler404 = "apps.core.views.page_not_found"

admin.site.site_header = "人口和计划生育管理系统 · 管理后台"
admin.site.site_title = "管理后台"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init code as a script file: the page has no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("areas/", include("apps.areas.urls")),
    path("registry/", include("apps.registry.urls")),
    path("imports/", include("apps.imports.urls")),
    path("indicators/", include("apps.indicators.urls")),
    path("fees/", include("apps.fees.urls")),
    path("subsidies/", include("apps.subsidies.urls")),
    path("scoring/", include("apps.scoring.urls")),
    path("reconciliation/", include("apps.reconciliation.urls")),
    path("", include("apps.core.urls")),
    path("", include("apps.accounts.urls")),
]
