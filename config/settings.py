"""Settings, all from the environment (12-factor).

Required: ``SECRET_KEY``, ``DATABASE_URL``, ``REDIS_URL`` (``make run`` / ``make test`` provide embedded ones
when unset, see ``scripts/devservices.py``). Optional: ``DEBUG`` (off unless ``1``), ``ALLOWED_HOSTS``
(comma-separated), ``SECURE_COOKIES`` (defaults to on unless DEBUG), ``CSRF_TRUSTED_ORIGINS``,
``SECURE_HSTS_SECONDS`` (0: no HSTS), ``SECURE_SSL_REDIRECT``, ``TRUSTED_PROXY_COUNT``.
Production (``manage.py check --deploy`` clean): DEBUG off, a long SECRET_KEY, SECURE_COOKIES=1,
SECURE_HSTS_SECONDS=31536000, SECURE_SSL_REDIRECT=1 (tests/core/test_security_headers.py runs it).
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import pghistory
import pgtrigger
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from environ import Env

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is not set. `make run` and `make test` set it for a "
            "development machine; in production set it in the service's environment."
        )
    return value


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = _required("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before django.contrib.admin: its template adds an "Events" (change history) button to every
    # tracked record's admin page.
    "pghistory.admin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "axes",
    "django_htmx",
    "csp",
    "import_export",
    "apps.core",
    "apps.areas",
    "apps.accounts",
    "apps.registry",
    "apps.imports",
    "apps.indicators",
    "apps.fees",
    "apps.subsidies",
    "apps.reconciliation",
    "apps.scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "apps.core.middleware.PrivacyHeadersMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.core.middleware.AuditContextMiddleware",
    # A successful write request renders the cached pages anew (apps.core.pagecache).
    "apps.core.pagecache.PageCacheWriteMiddleware",
    "apps.core.middleware.RoleMatrixMiddleware",
    # After the role matrix (a refused page stays a 403): a temporary password must be changed first.
    "apps.accounts.middleware.PasswordChangeRequiredMiddleware",
    # AxesMiddleware last: it turns a lockout raised during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(_required("DATABASE_URL"), conn_max_age=60)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _required("REDIS_URL")
if _xdist_worker := env.str("PYTEST_XDIST_WORKER", default=""):
    # `make test` runs the suite in parallel (pytest-xdist): each test process, and the Celery worker it
    # starts, gets a Redis database of its own, so a task is only ever run against its own test database.
    _redis = urlsplit(REDIS_URL)
    _base_db = int(_redis.path.strip("/") or 0)
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_base_db + 1 + int(_xdist_worker.removeprefix('gw'))}"))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
# Sessions are read from Redis on every request and written through to the database (one query less per page).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Reverse proxies in front of gunicorn that append to X-Forwarded-For (nginx: 1). 0 (the default, gunicorn
# reached directly): the header is ignored, so a client cannot choose the address that lockouts and rate limits
# count (apps/core/clientip.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Failed logins: five wrong passwords for one user name from one address lock that pair for 30 minutes
# (django-axes). By user name AND address: a stranger guessing `county_admin` from elsewhere does not lock the
# real admin out, and one mistyping colleague in a township office (one shared intranet address) does not lock
# out the others.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "apps.core.clientip.client_ip"
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# One address trying many names: every login attempt (form and token endpoint together) counts against the
# address; past LOGIN_RATE_LIMIT attempts in LOGIN_RATE_WINDOW_SECONDS it is answered 429 until the window ends.
LOGIN_RATE_LIMIT = env.int("LOGIN_RATE_LIMIT", default=30)
LOGIN_RATE_WINDOW_SECONDS = env.int("LOGIN_RATE_WINDOW_SECONDS", default=300)
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password"]

SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600  # one working day
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HSTS: off unless set (a site first served over plain http must not be pinned to https by accident); the
# compose file sets a year. Browsers only honour it over https, where Django sends it.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Behind a TLS-terminating proxy the proxy usually redirects; set it when gunicorn itself faces http clients.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container health check speaks plain http
# Content-Security-Policy (django-csp): scripts only from our own static files — no inline script or event
# handler anywhere (templates use data-* attributes that static/js/app.js wires up). Inline style attributes
# are allowed ('unsafe-inline' in style-src): templates use a few for widths, and htmx and ECharts set styles;
# styles cannot run code, so this keeps script injection closed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Sent on every response (apps.core.middleware.PrivacyHeadersMiddleware), with Cache-Control: no-store on every
# page for a signed-in user and every /api/ response (they carry personal data).
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=()"
)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_COOKIES or TRUSTED_PROXY_COUNT else None

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Days an import's uploaded file and error report are kept after the job finished (then purged nightly).
IMPORT_UPLOAD_RETENTION_DAYS = env.int("IMPORT_UPLOAD_RETENTION_DAYS", default=90)
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "县级人口和计划生育管理系统 API",
    "DESCRIPTION": "Area-scoped REST API of the county population and family-planning administration.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the installed sidecar package: county intranets have no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.schema.document_error_responses",  # 400/401/403/404 on every operation
    ],
    "ENUM_NAME_OVERRIDES": {
        "SexEnum": "apps.registry.models.Sex",
        "PolicyStatusEnum": "apps.registry.models.PolicyStatus",
        "MarriageKindEnum": "apps.registry.models.MarriageKind",
        "MoveKindEnum": "apps.registry.models.MoveKind",
        "PermitKindEnum": "apps.registry.models.PermitKind",
        "ImportKindEnum": "apps.imports.models.ImportKind",
        "ImportStatusEnum": "apps.imports.models.ImportStatus",
        "FeePaymentMethodEnum": "apps.fees.models.PaymentMethod",
        "ContraceptiveMethodEnum": "apps.registry.models.ContraceptiveMethod",
        "ItemMethodEnum": "apps.scoring.models.ItemMethod",
        "SchemeStatusEnum": "apps.scoring.models.SchemeStatus",
        "AssessmentStatusEnum": "apps.scoring.models.AssessmentStatus",
        "AdjustmentDirectionEnum": "apps.scoring.models.AdjustmentDirection",
        "TargetDirectionEnum": "apps.scoring.models.TargetDirection",
        "RosterStatusEnum": "apps.subsidies.models.RosterStatus",
        "BatchStatusEnum": "apps.subsidies.models.BatchStatus",
        "SubsidyPaymentStatusEnum": "apps.subsidies.models.PaymentStatus",
    },
}

# Every uploaded spreadsheet is read within these bounds (apps/core/spreadsheets.py ``Limits``).
SPREADSHEET_LIMITS = {
    "max_bytes": env.int("SPREADSHEET_MAX_MB", default=50) * 1024 * 1024,
    "memory_bytes": env.int("SPREADSHEET_PARSE_MEMORY_MB", default=1536) * 1024 * 1024,
}
# Runs of one import job that may start (its worker died in each) before it is failed as a poison file.
IMPORT_MAX_ATTEMPTS = env.int("IMPORT_MAX_ATTEMPTS", default=3)

# The dashboard ranks the areas by the first of these indicators whose values differ between them (unless the
# user picks one): an indicator on which every township has 100.00 ranks nothing.
INDICATORS_RANKING = env.list(
    "INDICATORS_RANKING",
    default=["policy_compliance_rate", "birth_registration_timeliness", "contraceptive_prevalence",
             "record_completeness_rate", "long_acting_share", "natural_growth_rate"],
)  # fmt: skip

# 编制单位 on every Excel report: the user's area name followed by this office's name.
EXPORT_OFFICE_NAME = env.str("EXPORT_OFFICE_NAME", default="人口和计划生育办公室")

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True  # tasks are idempotent; a worker lost mid-task leaves the task for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {
    # The year-to-date report (and the quarter itself) of each finished quarter, on the 5th of the next month.
    "indicators-quarterly-report": {
        "task": "indicators.compute",
        "schedule": crontab(minute=0, hour=2, day_of_month=5, month_of_year="1,4,7,10"),
    },
    # Import jobs whose worker died (killed, out of memory, restarted) are queued again or failed by themselves.
    "imports-recover": {"task": "imports.recover", "schedule": env.float("JOBS_RECOVER_SECONDS", default=60.0)},
    "indicators-recover": {"task": "indicators.recover", "schedule": env.float("JOBS_RECOVER_SECONDS", default=60.0)},
    # The data-quality lists, refreshed when registry writes happened since the last refresh.
    "registry-quality-refresh": {
        "task": "registry.quality_refresh",
        "schedule": env.float("QUALITY_REFRESH_SECONDS", default=60.0),
    },
    # Projected scores (预计得分) follow the latest indicator snapshots: rescored every night.
    "scoring-recompute": {"task": "scoring.recompute", "schedule": crontab(minute=30, hour=3)},
    # Uploaded spreadsheets and error reports hold personal data: removed once their job is old enough.
    "imports-purge-uploads": {"task": "imports.purge_uploads", "schedule": crontab(minute=15, hour=2)},
}

# pghistory: the middleware context is extended with the request path; services add the import job id.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Statement-level triggers: a bulk upsert or COPY of 100,000 rows writes its events in one set-based INSERT
# and attaches the context once, instead of once per row (row-level context attachment runs a subtransaction
# per row, which made a 100,000-row import take minutes).
PGHISTORY_LEVEL = pgtrigger.Statement
# Event tables are looked up by object and by context only; copying every foreign-key index of the tracked
# tables onto them would only slow bulk writes down.
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_index=True)
PGHISTORY_CONTEXT_FIELD = pghistory.ContextForeignKey(db_index=True)

# The admin's exports (django-import-export) go through the one safe writer: no cell runs as a formula.
from apps.core.export_formats import SafeCSV, SafeXLSX  # noqa: E402

EXPORT_FORMATS = [SafeXLSX, SafeCSV]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
