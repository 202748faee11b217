"""Settings, read from the environment (12-factor).

With no environment at all, fuwu runs the demo: SQLite under ``var/`` and a
development secret key. Production sets ``FUWU_ENV=production``, which turns
off DEBUG, demands a real secret key and turns on the HTTPS hardening that
``fuwu check --deploy`` looks for.
"""

from pathlib import Path

import environ
from whitenoise.compress import Compressor  # type: ignore[import-untyped]

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("FUWU_VAR_DIR", default=str(BASE_DIR / "var")))

PRODUCTION = env.str("FUWU_ENV", default="development") == "production"
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    # No default: a production deployment without its own key must not start.
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-do-not-use-in-production")

# Residents' identity numbers are encrypted and hashed with keys derived from this (base64 of 32 random bytes);
# see fuwu/residents/crypto.py. Like SECRET_KEY, production has no default and will not start without it.
if PRODUCTION:
    FUWU_PII_KEY = env.str("FUWU_PII_KEY")
else:
    # Development and tests only: a fixed, public key (crypto.DEVELOPMENT_KEY), so the demo database survives
    # restarts. Anything encrypted with it is effectively clear text; `fuwu check --deploy` warns about it.
    FUWU_PII_KEY = env.str("FUWU_PII_KEY", default="ZnV3dS1kZXZlbG9wbWVudC1waWkta2V5LTMyYnl0ZXM=")
# During a key rotation only: the previous key(s), comma-separated, so rows not yet re-encrypted still open
# and are still found. `fuwu residents rotate-key` says when they can be removed (docs/deploy.md).
FUWU_PII_OLD_KEYS = env.list("FUWU_PII_OLD_KEYS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_htmx",
    # django-ninja's own static files: the API's Swagger UI is served from here, not from a CDN.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "fuwu.common",
    "fuwu.accounts",
    "fuwu.areas",
    "fuwu.population",
    "fuwu.standards",
    "fuwu.residents",
    "fuwu.guide",
    "fuwu.api",
    "fuwu.eligibility",
    "fuwu.homecare",
    "fuwu.compliance",
    "fuwu.applications",
    "fuwu.notices",
    "fuwu.evaluation",
    "fuwu.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fuwu.common.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fuwu.common.middleware.CookieLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fuwu.common.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fuwu.common.middleware.DisplayModeMiddleware",
    "fuwu.common.middleware.NulRefusingMiddleware",
    # Axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fuwu.urls"
# A form whose security token expired gets the site's own 403 page, in the reader's language.
CSRF_FAILURE_VIEW = "fuwu.common.views.csrf_failure"
WSGI_APPLICATION = "fuwu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fuwu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "fuwu.common.context_processors.display",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'fuwu.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
# Connections stay open between requests: opening one (SQLite with its pragmas, a PostgreSQL session) costs
# several times what a cached public page does. FUWU_DB_CONN_MAX_AGE=0 closes each. A health check before
# each request's first query is a second round trip to PostgreSQL on every public page, so it is off (as in
# Django): after a database restart each worker's next request fails once, and the broken connection is
# dropped. FUWU_DB_HEALTH_CHECKS=true trades that request for the round trip.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("FUWU_DB_CONN_MAX_AGE", default=600))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("FUWU_DB_HEALTH_CHECKS", default=False))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, creating the file's folder (var/ on a fresh clone) before it opens the file.
    DATABASES["default"]["ENGINE"] = "fuwu.common.sqlite3"
    DATABASES["default"].setdefault("OPTIONS", {})
    options = DATABASES["default"]["OPTIONS"]
    # WAL: readers never wait for the writer, so pages answer while the worker loads results.
    options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    # Every write transaction takes the lock at BEGIN (no upgrade deadlocks), and waits up to `timeout`
    # seconds for it instead of failing at once: a login during a worker's batch waits, never answers 500.
    # Long work writes in short batches (fuwu.common.batches); the longest single transaction is an
    # all-or-nothing import of a 100,000-row list (about 25 s on a busy two-core machine), hence a minute.
    options.setdefault("transaction_mode", "IMMEDIATE")
    options.setdefault("timeout", env.float("SQLITE_TIMEOUT", default=60.0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
LOGIN_REDIRECT_URL = "guide:home"
LOGOUT_REDIRECT_URL = "guide:home"

# Lockout: after AXES_FAILURE_LIMIT failures for one username from one address,
# the account is locked for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# The client's address for the lockout: REMOTE_ADDR, or, when that is one of FUWU_TRUSTED_PROXIES (addresses
# or networks, comma-separated), the last address in X-Forwarded-For that is not a trusted proxy. Without
# it, everyone behind a reverse proxy would share the proxy's address and one lockout. See docs/security-data.md.
FUWU_TRUSTED_PROXIES = env.list("FUWU_TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "fuwu.accounts.lockout.client_ip"

# Sessions: staff are signed out after FUWU_STAFF_IDLE_MINUTES without a request; FUWU_IDLE_MINUTES
# overrides it by role (None: no idle limit, the cookie's SESSION_COOKIE_AGE of 14 days). Caregivers spend
# a visit of an hour or two between check-in and check-out, so their limit is longer.
FUWU_STAFF_IDLE_MINUTES = env.int("FUWU_STAFF_IDLE_MINUTES", default=30)
FUWU_IDLE_MINUTES: dict[str, int | None] = {"resident": None, "caregiver": 240}

# Content-Security-Policy (fuwu.common.middleware.SecurityHeadersMiddleware): scripts only from the site's
# own static files (no inline script, no eval). Styles may be inline (the self-check's and the printable
# pages' <style> blocks, ECharts' and Swagger UI's tooltips): styles cannot run code.
FUWU_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "fuwu" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Production serves collected files from STATIC_ROOT; development serves them
# straight from the apps (WhiteNoise's finders), so there is nothing to collect.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))) if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
# collectstatic keeps only the hashed copies, and does not compress source maps (developer tools only): half
# the files and a fraction of the time (brotli at its best level is slow on megabytes of JavaScript).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Where the civil affairs' registry exports (Parquet, CSV, .xlsx) are put for a bulk load from the page
# (/residents/load/): files of gigabytes come by file transfer, not by an upload through a request.
FUWU_REGISTRY_DROP = Path(env.str("FUWU_REGISTRY_DROP", default=str(VAR_DIR / "registry-drop")))
# PostgreSQL's maintenance_work_mem while a first load builds the indexes it put aside (ADR 0026): enough to sort
# a registry's index in memory; it is the build's session's alone, and only while the build runs.
FUWU_INDEX_BUILD_MEMORY = env.str("FUWU_INDEX_BUILD_MEMORY", default="512MB")

# Rendered documents (printable guides) are cached on disk so they survive restarts.
CACHES = {
    "default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}"),
}

# Where the standards and reference data live (the repository's data, not code).
STANDARDS_DIR = Path(env.str("FUWU_STANDARDS_DIR", default=str(BASE_DIR / "standards")))
AREAS_DIR = Path(env.str("FUWU_AREAS_DIR", default=str(BASE_DIR / "data" / "areas")))

# Which standard runs home care, and which of its parameters mean what. Values live in the standard.
FUWU_HOMECARE = {
    "standard": "taizhou-home-care",
    "unit_price": "hc-unit-price",
    "package_price": "hc-package-price",
    "monthly_subsidy": "hc-monthly-subsidy",
    "response_hours": "hc-response-hours",
    "first_visit_days": "hc-visit-days",
    "complaint_days": "hc-complaint-days",
    "checkin_radius_m": "hc-checkin-radius-m",
    "pre_job_training_hours": "hc-pre-job-training-hours",
    "annual_training_hours": "hc-annual-training-hours",
    "callback_days": "hc-callback-days",
    "callback_share": "hc-callback-share",
    # A project whose item states no visit length is planned at this many minutes.
    "default_minutes": 60,
}
# Service photos: at most this many per visit, of these types, each at most this many bytes.
# Wrong confirmation codes a caregiver may enter for one visit before only the family or officer can confirm.
FUWU_CONFIRMATION_ATTEMPTS = 5
FUWU_PHOTO_MAX_COUNT = 3
FUWU_PHOTO_MAX_BYTES = 5 * 1024 * 1024
FUWU_PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "image/webp": b"RIFF"}

# Compliance: which institution kind (declared in the standards) the home-care providers are, for linking
# them to the institution registry; how many photos or files one checklist item or rectification order takes.
FUWU_COMPLIANCE = {
    "homecare_provider_kind": "home-care-provider",
    "evidence_per_item": 6,
}

# Applications' 好差评 (docs/applications.md, "Ratings and rectification", "Public figures").
FUWU_APPLICATIONS_RATINGS = {
    # SETTING, NOT FROM THE STANDARDS: no standard in standards/ states how long a department has to put a
    # 差评 right. 15 working days (rectification and callback to the applicant) follows common provincial
    # 好差评 practice; change it here when the city's rule says otherwise.
    "rectification_days": env.int("FUWU_RECTIFICATION_DAYS", default=15),
    # The rater's own words, and what the department and the callback record, at most this many characters.
    "text_max": 300,
    # Public figures are shown only over at least this many applications (or ratings), so that no figure
    # describes one or a few identifiable people; below it the page says 尚无足够数据.
    "figures_minimum": 10,
    # The figures count applications decided in this many days before the day they are computed.
    "figures_window_days": 365,
}

DISPLAY_COOKIE_NAME = "fuwu_display"

# Background work: django-tasks' queue in this database (SQLite or PostgreSQL alike), run by `fuwu worker`.
# See docs/decisions/0009-background-jobs-on-django-tasks.md.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
FUWU_JOBS = {
    # A running job whose worker has not beaten for this long is taken for dead: retried or reported.
    # The worker beats every `fuwu worker --tick` seconds (10), so this allows for long pauses.
    "stale_after": env.float("FUWU_JOBS_STALE_AFTER", default=120.0),
    # A job's progress is written at most this often (seconds); the page polls every 2 s.
    "progress_every": 1.0,
}
# Periodic work, in Asia/Shanghai time, queued once per slot by whichever worker claims it first
# (fuwu/jobs/schedule.py explains the format). Replaces cron.
FUWU_SCHEDULE = {
    "homecare-flag-overdue": {"kind": "homecare.flag_overdue", "every": "15 minutes"},
    "standards-review-reminders": {"kind": "standards.review_reminders", "every": "day", "at": "07:00"},
    "homecare-callbacks-sample": {"kind": "homecare.callbacks_sample", "every": "day", "at": "07:30"},
    "homecare-month-end-settlement": {
        "kind": "homecare.settlement_month_end",
        "every": "month",
        "day": 1,
        "at": "02:00",
    },
    "eligibility-runs-purge": {"kind": "eligibility.runs_purge", "every": "day", "at": "03:30"},
    # The standards' indicators for this month and the last (docs/evaluation.md); unchanged periods are skipped.
    "evaluation-indicators": {"kind": "evaluation.indicators_compute", "every": "day", "at": "04:00"},
    # The items' public figures (applications handled, on time, working days, satisfaction), as of today.
    "applications-figures": {"kind": "applications.figures_compute", "every": "day", "at": "00:20"},
    # The outbox's failed SMS and e-mail, tried again (docs/applications.md, "Notices").
    "notices-send-due": {"kind": "notices.send_due", "every": "5 minutes"},
    # Applications past their step's due date: flagged and escalated once per step (docs/applications.md).
    "applications-flag-overdue": {"kind": "applications.flag_overdue", "every": "day", "at": "00:20"},
}
# The daily incremental screening of the registry (fuwu screen --registry --incremental), at this local time
# ("HH:MM") when set; off by default, since a deployment first loads its registry.
if env.str("FUWU_SCREEN_DAILY_AT", default=""):
    FUWU_SCHEDULE["eligibility-registry-daily"] = {
        "kind": "eligibility.registry_daily",
        "every": "day",
        "at": env.str("FUWU_SCREEN_DAILY_AT"),
    }
# Screen the registry in place (ADR 18): PostgreSQL screens the facts view over residents_person and keeps the
# answers in a table of the run's own; no person's facts are exported to Parquet. On, every registry run (the
# page, the daily job, `fuwu screen --registry`) screens in place and a run asked to export is refused; needs
# PostgreSQL (a run on SQLite is refused with the reason). Off, `fuwu screen --registry --in-place` asks for it.
FUWU_SCREEN_IN_PLACE = env.bool("FUWU_SCREEN_IN_PLACE", default=False)
# Screening runs keep every answer in Parquet under their output directory and the proactive list's rows in
# the database (ADR 17). A run's files, candidates and changes are deleted once it is older than keep_days
# and not one of the newest keep_runs of its population (docs/population.md); counts stay.
FUWU_SCREENING_RETENTION = {
    "keep_runs": env.int("FUWU_SCREENING_KEEP_RUNS", default=2),
    "keep_days": env.int("FUWU_SCREENING_KEEP_DAYS", default=30),
}
# A daily registry run stores only what changed and reads the rest from the runs before it (ADR 27); after
# this many daily runs in a row the next one is a full run, which starts a new chain.
FUWU_SCREENING_DAILY_CHAIN = env.int("FUWU_SCREENING_DAILY_CHAIN", default=30)
# The officers on whose behalf the scheduled home-care work runs (callback sampling and draft month-end
# settlements need an officer's area; their audit rows name them). Comma-separated usernames.
FUWU_SCHEDULE_OFFICERS = env.list("FUWU_SCHEDULE_OFFICERS", default=[] if PRODUCTION else ["officer"])

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes inside the cluster speak plain HTTP; they get the answer, not a redirect.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# FUWU_LOG_FORMAT=json writes one JSON object per line (time in Asia/Shanghai, level, logger, message,
# exception) for a log collector; the default is one readable line per record.
LOG_FORMAT = env.str("FUWU_LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "fuwu.common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "text"}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # py4j (Spark) logs its shutdown at INFO after logging has closed; keep it to warnings.
    "loggers": {"axes": {"level": "WARNING"}, "py4j": {"level": "WARNING"}},
}

# Request bodies (issue 9): a form post carries at most 1 MiB besides its files (uploads have their own limits);
# a JSON body to the API at most 64 KiB (fuwu.api.guards answers 413 with a message before reading more).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
FUWU_API_MAX_BODY = env.int("FUWU_API_MAX_BODY", default=64 * 1024)
# Checks of a registered person's eligibility (fuwu.eligibility.people): at most this many per person and per
# user in a rolling hour; past that, refused (429), audited and logged as a possible sweep.
FUWU_PERSON_CHECKS_PER_HOUR = env.int("FUWU_PERSON_CHECKS_PER_HOUR", default=5)
FUWU_USER_PERSON_CHECKS_PER_HOUR = env.int("FUWU_USER_PERSON_CHECKS_PER_HOUR", default=60)

# --- Evaluation of a standard (issue 13; docs/evaluation.md "Feedback on clauses" and "The review") -------------
# Public feedback on a clause: at most this many from one address (kept only as a keyed hash) in a rolling hour
# and from one account in a rolling day; past either, refused (429). Lengths of the text and the optional contact.
FUWU_FEEDBACK = {
    "per_address_per_hour": env.int("FUWU_FEEDBACK_PER_ADDRESS_PER_HOUR", default=5),
    "per_account_per_day": env.int("FUWU_FEEDBACK_PER_ACCOUNT_PER_DAY", default=20),
    "min_chars": 5,
    "max_chars": 1000,
    "contact_max_chars": 60,
}
# The rules of thumb behind the evaluation report's suggested decision (fuwu.evaluation.review.suggest).
FUWU_REVIEW_RULES = {
    "months": 12,  # the report looks at the last 12 whole months
    "poor_rating_stars": 2,  # a rating of at most this many stars is a 差评
    "revise_if_indicators_met_below": "0.5",  # share of computed indicators meeting their target
    "revise_if_clause_failure_rate": "0.3",  # share of department inspections failing one clause …
    "min_inspections_for_failure_rate": 3,  # … among at least this many inspections of it
    "revise_if_clause_feedback": 5,  # approved public comments on one clause
    "revise_if_clause_complaints": 10,  # complaints and 差评 traced to one clause
}
# --- end evaluation ----------------------------------------------------------------------------------------------
# Notices (docs/applications.md "Notices", ADR 24): which channels each audience gets besides the in-site message,
# and the backend that sends each channel. The demo writes every message as a file under <FUWU_VAR_DIR>/outbox/
# (staff read them at /notices/outbox/); a real SMS gateway is one change here:
# FUWU_NOTICE_SMS_BACKEND=myproject.sms.GatewayBackend. fuwu.notices.backends.LogBackend writes to the log.
FUWU_NOTICES = {
    "channels": {"applicant": ["sms", "email"], "officer": []},
    "backends": {
        "sms": env.str("FUWU_NOTICE_SMS_BACKEND", default="fuwu.notices.backends.OutboxFileBackend"),
        "email": env.str("FUWU_NOTICE_EMAIL_BACKEND", default="fuwu.notices.backends.OutboxFileBackend"),
    },
    # A failed send is tried again after retry_minutes, then twice as long each time, max_attempts in all.
    "retry_minutes": 5,
    "max_attempts": 5,
}
