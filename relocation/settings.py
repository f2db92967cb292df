"""Settings for the relocation community manager.

Everything that differs between a laptop and production comes from the
environment (see ``.env.example``).  With nothing set the app runs on SQLite in
the checkout with DEBUG on, which is what ``make run`` gives a newcomer.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from relocation import content_security

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A development checkout gets a .env from the Makefile (DEBUG on, a random key);
# real environment variables always win over it.  ENV_FILE points elsewhere.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# A development key only exists when DEBUG is on: production must set SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
# ID numbers and phones are encrypted at rest (communities.crypto): AES-256-GCM keys,
# newest first (each 32 random bytes, URL-safe base64), and the HMAC key of their
# search hashes.  Like SECRET_KEY, production must set both; with DEBUG on and
# nothing set, both are derived from SECRET_KEY.
PII_ENCRYPTION_KEYS = [k for k in env.list("PII_ENCRYPTION_KEYS", default=[]) if k.strip()]
PII_HASH_KEY = env("PII_HASH_KEY", default="").strip()
if not DEBUG and not (PII_ENCRYPTION_KEYS and PII_HASH_KEY):
    raise ImproperlyConfigured(
        "Set the PII_ENCRYPTION_KEYS and PII_HASH_KEY environment variables "
        "(README, Security): production never derives them from SECRET_KEY."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "relocation.admin_site.RelocationAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "csp",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Its widget templates, for FORM_RENDERER below.
    "django.forms",
    "simple_history",
    "import_export",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "relocation.accounts",
    "axes",
    "communities",
    "employment",
    "services",
    "governance",
    "relocation.dashboards",
    "relocation.spreadsheets",
    "relocation.demo",
    "relocation.backups",
    "rest_framework",
    "drf_spectacular",
    "relocation.api",
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer before sessions, hosts and HTTPS redirects.
    "relocation.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry the policy too.
    "csp.middleware.CSPMiddleware",
    # GET/HEAD/OPTIONS: SQLite transactions without the write lock (no-op on PostgreSQL).
    "relocation.sqlite.middleware.DeferredReadsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The settlements in the user's scope, read once per request (communities.scope).
    "communities.scope.VisibleSettlementsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "relocation.accounts.middleware.IdleTimeoutMiddleware",
    "relocation.accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Dashboard pages and exports read from REPLICA_DATABASE_URL when set (relocation.db_router).
    "relocation.db_router.ReplicaReadsMiddleware",
    # A query cancelled by DATABASE_STATEMENT_TIMEOUT_MS: a page that says so, not an error.
    "relocation.query_timeout.QueryTimeoutMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "relocation.urls"

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
            ],
        },
    },
]

# Form widgets render through TEMPLATES, so that templates/django/forms/ may replace
# Django's own: select.html writes its options in place (the household form's 48
# drop-downs rendered in a third of the time); relocation/renderers.py writes the
# inputs, drop-downs and empty error lists in Python, with the same markup.
FORM_RENDERER = "relocation.renderers.Renderer"

WSGI_APPLICATION = "relocation.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves the web server and the job worker at once:
    # write-ahead logging lets pages read while the worker writes, and
    # transactions that take the write lock up front wait for it (up to the
    # timeout) instead of failing with "database is locked" when two
    # processes both try to upgrade a read lock.  Requests that only read
    # begin DEFERRED instead, never waiting for a writer (relocation.sqlite).
    DATABASES["default"]["ENGINE"] = "relocation.sqlite"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_TIMEOUT", default=60),
        }
    )
# A streaming read replica of the primary (docs/production.md): dashboard pages and
# exports read from it; writes, sign-in, sessions and rights always use the primary.
if env.str("REPLICA_DATABASE_URL", default=""):
    DATABASES["replica"] = env.db("REPLICA_DATABASE_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    # Under tests the replica is the test database as seen through the replica.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# Server settings of every PostgreSQL connection, the primary's and the replica's alike:
# - jit=off: PostgreSQL compiles queries it estimates as large (jit_above_cost) before
#   running them: 180–225 ms of compiling for each count of the work-list page at 2
#   million people, more than the page's whole budget, and nothing gained on queries
#   that run a second or less.  POSTGRES_JIT=true keeps the server's choice.
# - statement_timeout: how long one query may run, in milliseconds (0: no limit, the
#   default).  The web service sets DATABASE_STATEMENT_TIMEOUT_MS (deploy/gunicorn.conf.py:
#   a little under gunicorn's timeout), so that a query outlives no request: it is
#   cancelled and the user told so (relocation.query_timeout).  The job worker and
#   commands run exports, imports and rebuilds that may take long, and keep no limit.
DATABASE_STATEMENT_TIMEOUT_MS = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=0)
_server_settings = [] if env.bool("POSTGRES_JIT", default=False) else ["-c jit=off"]
if DATABASE_STATEMENT_TIMEOUT_MS > 0:
    _server_settings.append(f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}")
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql" and _server_settings:
        _options = _database.setdefault("OPTIONS", {})
        _options["options"] = " ".join([_options.get("options", ""), *_server_settings]).strip()
DATABASE_ROUTERS = ["relocation.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "relocation.accounts.validators.CharacterClassesValidator",
        "OPTIONS": {"min_classes": env.int("PASSWORD_MIN_CHARACTER_CLASSES", default=3)},
    },
]

# --- Sign-in hardening (relocation.accounts) --------------------------------
# django-axes first: it refuses a locked-out username before the password is
# even checked.  Its subclass lets sign-ins without an HTTP request (the shell,
# the test client) through to ModelBackend; every web sign-in has one.
AUTHENTICATION_BACKENDS = [
    "relocation.accounts.backends.LockoutBackend",
    # Django's ModelBackend, with a user's permissions read in one query.
    "relocation.accounts.backends.ModelBackend",
]
# Lock out by user name, never by address: a township office shares one.
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 warns that a lockout without the address lets one attacker try many
# names; that is the trade-off chosen (every name still gets only 5 tries).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Attempts while locked do not push the unlock time further (the page states it).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "relocation.accounts.views.locked_out"
# Our own sign-in log (accounts.SignInEvent) is the record, scoped by area;
# axes keeps only its lockout counters, and its admin (unscoped) stays off.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# End a session after this many seconds without a request; activity extends it.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
# TOTP second factor (django-otp): the issuer shown in authenticator apps.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="易地扶贫搬迁社区管理")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic gathers the files whitenoise serves (docs/production.md).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"
# After logging in from the site root, users land on the dashboard of their own area.
LOGIN_REDIRECT_URL = "dashboards:home"

# Production hardening; each can be relaxed from the environment for a
# deployment behind a TLS-terminating proxy that does its own redirects.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)

# Content Security Policy (django-csp): everything from our own origin, no inline
# script or style; see relocation/content_security.py.  CSP_EXTRA_ORIGINS adds
# https origins an office must load from (comma-separated).
CONTENT_SECURITY_POLICY = content_security.policy(
    content_security.extra_origins(env.list("CSP_EXTRA_ORIGINS", default=[]))
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # django-axes logs every sign-in at INFO; the sign-in log table is the record.
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Domain settings -------------------------------------------------------
# Labour-force age bounds (INDICATORS.md, "Labour force"); inclusive.
LABOUR_AGE_MIN = env.int("LABOUR_AGE_MIN", default=16)
LABOUR_AGE_MAX = env.int("LABOUR_AGE_MAX", default=60)
# Labour abilities that put a person outside the labour force (codes of
# communities.enums.LabourAbility), and whether full-time students are outside.
LABOUR_EXCLUDED_ABILITIES = env.list("LABOUR_EXCLUDED_ABILITIES", default=["lost", "none"])
LABOUR_EXCLUDE_STUDENTS = env.bool("LABOUR_EXCLUDE_STUDENTS", default=True)

# Dashboards' running figures (relocation/dashboards/engine.py, README "Dashboards"):
# how old they may get before a page view asks for a refresh (seconds); how many
# changed settlements a page view recomputes itself (more go to the job worker; 0:
# always the job worker, so that no page waits for a computation, as in production);
# how long a transaction may take to commit after it wrote and still be noticed.
DASHBOARD_MAX_AGE = env.int("DASHBOARD_MAX_AGE", default=60)
DASHBOARD_INLINE_LIMIT = env.int("DASHBOARD_INLINE_LIMIT", default=60)
DASHBOARD_CHANGE_LOOKBACK = env.int("DASHBOARD_CHANGE_LOOKBACK", default=900)
# Connections the nightly refresh and a snapshot of several periods compute on at once
# (PostgreSQL): the sources' grouped queries run in the database, one core each.
DASHBOARD_WORKERS = env.int("DASHBOARD_WORKERS", default=2)
# PostgreSQL's work_mem on those connections ("" keeps the server's setting).
DASHBOARD_WORK_MEM = env.str("DASHBOARD_WORK_MEM", default="256MB")
# A dashboard page's body is rendered once per area, scope, language, period and
# figures' computation time, and kept this many seconds at most (0: never kept), in
# the "dashboards" cache: each web process's memory unless DASHBOARD_CACHE_URL names a
# shared one (relocation/dashboards/pagecache.py).
DASHBOARD_PAGE_CACHE = env.int("DASHBOARD_PAGE_CACHE", default=60)

# Lists covering more settlements than this offer the 区域 drill-down instead of
# listing every settlement in their 安置点 filter.
ADMIN_SETTLEMENT_CHOICES = env.int("ADMIN_SETTLEMENT_CHOICES", default=300)

# Background jobs (large imports, period snapshots): the django-tasks backport of
# Django 6's tasks API, stored in the database so that SQLite and PostgreSQL
# both work without another server.  `make run` starts the worker
# (`manage.py db_worker`); in production run it as its own service.
# Queues: spreadsheet imports on their own (checked and committed while a user waits on
# the page), large exports on theirs; figures and scans on "default".  One worker may take
# every queue (``--queue-name '*'``); production gives imports a worker of their own, so
# that a province's export or a night's snapshot never keeps an import waiting
# (deploy/relocation-worker-imports.service).
TASK_QUEUES = ("default", "imports", "exports")
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": list(TASK_QUEUES),
    }
}
# The job worker stamps a heartbeat this often; a worker on another host whose
# heartbeat is older than the stale limit counts as gone, and so do its jobs.
JOB_WORKER_HEARTBEAT_SECONDS = env.int("JOB_WORKER_HEARTBEAT_SECONDS", default=10)
JOB_WORKER_STALE_SECONDS = env.int("JOB_WORKER_STALE_SECONDS", default=120)
# /readyz answers 503 when the oldest ready job has waited longer than this (relocation.health).
HEALTH_QUEUE_MAX_AGE_SECONDS = env.int("HEALTH_QUEUE_MAX_AGE_SECONDS", default=300)

# manage.py backup_db writes here unless given a path (keep it off the web root).
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(BASE_DIR / "backups")))

# django-simple-history: never let a history row be edited back into the record
# from the admin; the history is a record, not an editor.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# django-import-export: import and export each need their own permission.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# Off: it strips a leading "=" (changing the data), leaves "+", "-", "@" and turns
# every cell into text.  Our resources escape text cells themselves
# (relocation.spreadsheets.cells: a leading apostrophe, numbers stay numbers).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
# The export formats offered, named rather than "whatever libraries are installed":
# PyYAML (a dependency of the API's schema generator) would otherwise add a YAML
# export that cannot write amounts.
from import_export.formats import base_formats  # noqa: E402

from relocation.spreadsheets.formats import XLSX  # noqa: E402  (written row by row)

EXPORT_FORMATS = [
    base_formats.CSV,
    XLSX,
    base_formats.TSV,
    base_formats.JSON,
    base_formats.HTML,
]

# Spreadsheet import (relocation.spreadsheets): limits checked before parsing.
SPREADSHEET_MAX_UPLOAD_BYTES = env.int("SPREADSHEET_MAX_UPLOAD_BYTES", default=50 * 2**20)
SPREADSHEET_MAX_ROWS = env.int("SPREADSHEET_MAX_ROWS", default=200_000)
# The largest sheet area (furthest row × furthest column) and shared-strings table
# an .xlsx may have; checked by streaming its XML before the reader builds the range.
SPREADSHEET_MAX_CELLS = env.int("SPREADSHEET_MAX_CELLS", default=8_000_000)
# An .xlsx is a zip: refuse more than this once inflated, or a member inflating
# more than this ratio (real sheets are 5-20x; zip bombs are thousands).
SPREADSHEET_MAX_XLSX_UNZIPPED_BYTES = env.int(
    "SPREADSHEET_MAX_XLSX_UNZIPPED_BYTES", default=400 * 2**20
)
SPREADSHEET_MAX_XLSX_RATIO = env.int("SPREADSHEET_MAX_XLSX_RATIO", default=200)
# Files above this size are checked and committed by the job worker, not the request.
SPREADSHEET_INLINE_MAX_BYTES = env.int("SPREADSHEET_INLINE_MAX_BYTES", default=256 * 2**10)
# Exports (an admin list's 导出, the import page's exports) of more rows than this are
# made by the job worker, and their page follows them: a prefecture's list took 83 s
# inside the request. Their files are kept this many hours for their user to download.
EXPORT_INLINE_MAX_ROWS = env.int("EXPORT_INLINE_MAX_ROWS", default=10_000)
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=24)
# A user with this many exports queued or being made waits for them before asking again.
EXPORT_MAX_WAITING = env.int("EXPORT_MAX_WAITING", default=3)

# PII_HASH_KEY (read at the top, required in production) also keys the hash that the
# change history keeps beside a masked ID number or phone (communities.history_pii).
# Read-audit rows are kept at least this many days (Cybersecurity Law art. 21: six
# months); purge_read_audit refuses anything shorter.
READ_AUDIT_MIN_RETENTION_DAYS = 183


# --- The read-only API for other systems (relocation.api, docs/api.md) ---------------------
# Requests per system account (token); counted in the cache below.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="120/min")
# With several web processes the rate limit is shared only through a shared cache,
# e.g. CACHE_URL=dbcache://relocation_cache (after `manage.py createcachetable`).
CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://"),
    # Rendered dashboard bodies, compressed (a county of two dozen townships: 68 KB), 500 at
    # most: in each process's memory, or shared (the production settings: a directory).
    "dashboards": env.cache_url("DASHBOARD_CACHE_URL", default="locmemcache://dashboards"),
}
CACHES["dashboards"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 500)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["relocation.api.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["relocation.api.auth.ScopedReadPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["relocation.api.auth.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": API_RATE_LIMIT},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "易地扶贫搬迁后续扶持 数据接口",
    "DESCRIPTION": (
        "只读接口：安置点、搬迁户、家庭成员、就业和看板指标，按系统账号的管辖范围返回，"
        "个人信息按账号权限脱敏。认证：Authorization: Bearer <密钥>。"
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "relocation.api.schema.add_error_responses",
    ],
}

# Governance work list 「结对户超过N天未走访」: a paired household shows there when no
# visit is recorded in this many days (docs/governance.md).
GOVERNANCE_VISIT_INTERVAL_DAYS = env.int("GOVERNANCE_VISIT_INTERVAL_DAYS", default=90)
