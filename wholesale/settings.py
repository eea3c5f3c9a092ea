"""Settings for the Wholesale shop.

One module, driven by environment variables, layered like this:

1. Safe defaults for a laptop demo (`make run`): SQLite in ``var/``, local-memory cache,
   Celery tasks run inline, mail printed to the console.
2. Every outside service is switched on by its variable: ``DATABASE_URL`` (PostgreSQL),
   ``REDIS_URL`` (cache, and Celery broker unless ``CELERY_BROKER_URL`` says otherwise).
3. ``DEBUG`` is off unless asked for; with it off the security settings are production-grade
   (``manage.py check --deploy`` is clean), so production only has to set the secrets.

Project settings of our own are prefixed ``WHOLESALE_``.
"""

import os
import sys
from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from orders.tracking_schedule import tracking_beat_entries

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WHOLESALE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DEBUG = env_bool("DEBUG")
# Under pytest the suite runs with test-friendly defaults (no SSL redirect, plain static storage).
TESTING = env_bool("WHOLESALE_TESTING") or "pytest" in sys.modules

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not TESTING:
        raise ImproperlyConfigured("Set SECRET_KEY (DEBUG=1 uses a throwaway development key).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG or TESTING else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_countries",
    "allauth",
    "allauth.account",
    "guardian",
    "django_celery_beat",
    "wholesale",
    "catalog",
    "members",
    "orders",
    "staff",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The visitor's country (wholesale.visitor): request.country, from their choice or their IP.
    "wholesale.visitor.CountryMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # The visitor's currency (wholesale.currencies): request.currency, shown on every page.
    "wholesale.currencies.CurrencyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # English buyer pages to the visitor's language (wholesale.visitor), after authentication.
    "wholesale.visitor.LanguageDefaultMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = os.environ.get("WHOLESALE_URLCONF", "wholesale.urls")
WSGI_APPLICATION = "wholesale.wsgi.application"

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
                "django.template.context_processors.i18n",
                "wholesale.context_processors.shop",
                "orders.context_processors.cart",
                "staff.showcase_views.shop_showcase",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # JIT compiling pays off for long analytical queries, not for a page's: on the report
        # pages it spent more time compiling (up to 1.4 s) than the query then saved.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "wholesale.sqlite3",
            # The demo's web server and its beat write to one file: WAL lets readers go on
            # while one writes, IMMEDIATE takes the write lock at BEGIN (no upgrade deadlock)
            # and the timeout makes a writer wait its turn instead of failing.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
    # The demo's SQLite cannot hold one subscription per address, kind and (empty) category
    # as a database constraint; PostgreSQL does, and the service checks it anyway.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL settings a report page's transaction runs with (analytics.database): room for its
# sorts and hashes in memory, and parallel workers for its year-long scans.
WHOLESALE_ANALYTICS_DB_SETTINGS = {
    "work_mem": os.environ.get("WHOLESALE_ANALYTICS_WORK_MEM", "64MB"),
    "parallel_setup_cost": 100,
    "parallel_tuple_cost": 0.01,
    "random_page_cost": 1.1,
}

# --- Cache ------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "wholesale.cache_backend.ReusingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("WHOLESALE_CACHE_PREFIX", "wholesale"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
# Without a broker (the demo) tasks run inline, in the request or the beat that asks for them.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Longer than the longest task or countdown, so Redis never redelivers a task still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Beat keeps its schedule in the database (django-celery-beat), where staff see and change it in
# the admin; the entries below are written there when beat starts.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# ERP export profiles' folders live under this root (orders.exports).
WHOLESALE_EXPORT_ROOT = Path(os.environ.get("WHOLESALE_EXPORT_ROOT", VAR_DIR / "exports"))
WHOLESALE_EXPORT_TIMEOUT = env_int("WHOLESALE_EXPORT_TIMEOUT", 30)
CELERY_BEAT_SCHEDULE = {
    # Tasks the broker could not take when asked for are handed over (wholesale.outbox).
    "outbox-flush": {
        "task": "wholesale.tasks.outbox_flush_task",
        "schedule": env_int("WHOLESALE_OUTBOX_FLUSH_SECONDS", 60),
    },
    # Buffered product views and searches (catalog.services) reach the database within a minute.
    "catalog-events-flush": {
        "task": "catalog.tasks.catalog_events_flush_task",
        "schedule": env_int("WHOLESALE_EVENTS_FLUSH_SECONDS", 60),
    },
    # Orders unpaid past their pay_by are cancelled and give their stock back (orders.lifecycle).
    "orders-expire-unpaid": {
        "task": "orders.tasks.orders_expire_unpaid_task",
        "schedule": env_int("WHOLESALE_EXPIRE_UNPAID_SECONDS", 300),
    },
    # Shares and hand-overs past their time lose their permission (staff.grants); access
    # itself ends on time regardless, since the admin reads only live grants.
    "staff-grants-expire": {
        "task": "staff.tasks.grants_expire_task",
        "schedule": 60,
    },
    # Every member's level from their last 12 months, so levels lapse (orders.membership).
    "members-levels-nightly": {
        "task": "orders.tasks.members_level_recompute_all_task",
        "schedule": env_int("WHOLESALE_LEVELS_RECOMPUTE_SECONDS", 24 * 3600),
    },
    # New-arrival alerts: each live alert gets the products published in its category since
    # its last alert (members.subscriptions), once a day.
    "members-new-arrivals-alerts": {
        "task": "members.tasks.new_arrivals_alerts_task",
        "schedule": env_int("WHOLESALE_NEW_ARRIVALS_ALERT_SECONDS", 24 * 3600),
    },
    # Logistics tracking sweep (orders.tracking) at the times of day given, UTC.
    **tracking_beat_entries(os.environ.get("WHOLESALE_TRACKING_TIMES", "06:00,14:00,22:00")),
    # Product kits past their 7 days lose their file (orders.kits), once a day.
    "orders-kits-expire": {
        "task": "orders.kits.kits_expire_task",
        "schedule": env_int("WHOLESALE_KITS_EXPIRE_SECONDS", 24 * 3600),
    },
    # Hourly and daily ERP export profiles whose time has come are run (orders.exports).
    "orders-exports-due": {
        "task": "orders.tasks.exports_run_due_task",
        "schedule": env_int("WHOLESALE_EXPORTS_DUE_SECONDS", 300),
    },
    # The analytics rollups (analytics.rollups): the days that changed, every hour, and every
    # day once a night, so a customer handed to another salesperson moves in the reports too.
    "analytics-rollups": {
        "task": "analytics.tasks.rollups_refresh_task",
        "schedule": env_int("WHOLESALE_ROLLUPS_SECONDS", 3600),
    },
    "analytics-rollups-nightly": {
        "task": "analytics.tasks.rollups_refresh_task",
        "schedule": crontab(hour=3, minute=30),
        "kwargs": {"all_days": True},
    },
    # Points past their expiry date lapse (members.points), once a night.
    "members-points-expire": {
        "task": "members.tasks.points_expire_task",
        "schedule": env_int("WHOLESALE_POINTS_EXPIRE_SECONDS", 24 * 3600),
    },
    # Exchange rates of the currencies marked for it, from WHOLESALE_RATES_URL, once a day.
    "wholesale-rates-refresh": {
        "task": "wholesale.tasks.rates_refresh_task",
        "schedule": crontab(hour=5, minute=15),
    },
}

# --- Auth and accounts ------------------------------------------------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    # Object permissions for hand-overs and shares (staff.grants).
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian "anonymous user" row: visitors never hold object permissions.
ANONYMOUS_USER_NAME = None
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "members.forms.DistributorSignupForm"
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("WHOLESALE_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
# A password reset for an unknown address answers exactly like one for a known address, and
# sends nothing: the form cannot be used to mail strangers from our domain.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Wholesale] "
# allauth's defaults (login_failed "10/m/ip,5/5m/key", signup, password reset ...) stay on;
# they need the shared cache above, which is Redis in production.
ACCOUNT_RATE_LIMITS = {}
# The visitor's address for allauth's rate limits is the one wholesale.geo finds: behind a
# load balancer, list it in WHOLESALE_TRUSTED_PROXIES (below).
ACCOUNT_ADAPTER = "members.adapter.AccountAdapter"
if os.environ.get("WHOLESALE_TRUSTED_PROXY_COUNT"):
    raise ImproperlyConfigured(
        "WHOLESALE_TRUSTED_PROXY_COUNT is gone: list the proxies' addresses or networks in "
        "WHOLESALE_TRUSTED_PROXIES instead."
    )

# --- Shop rules -------------------------------------------------------------------------------
# Who sees wholesale prices: "everyone", "members" (logged-in) or "approved" (approved members).
WHOLESALE_PRICES_VISIBLE_TO = os.environ.get("WHOLESALE_PRICES_VISIBLE_TO", "members")
if WHOLESALE_PRICES_VISIBLE_TO not in {"everyone", "members", "approved"}:
    raise ImproperlyConfigured("WHOLESALE_PRICES_VISIBLE_TO: everyone, members or approved.")
# Whether a new distributor account waits for staff approval before it may order.
WHOLESALE_REQUIRE_APPROVAL = env_bool("WHOLESALE_REQUIRE_APPROVAL", False)
WHOLESALE_BASE_CURRENCY = os.environ.get("WHOLESALE_BASE_CURRENCY", "USD")
# The country assumed for a visitor whose country is not known (its currency is their default).
WHOLESALE_DEFAULT_COUNTRY = os.environ.get("WHOLESALE_DEFAULT_COUNTRY", "US")
# The proxies (addresses or networks, comma-separated) whose X-Forwarded-For we believe when
# finding a visitor's address (wholesale.geo); empty: REMOTE_ADDR is the visitor.
WHOLESALE_TRUSTED_PROXIES = env_list("WHOLESALE_TRUSTED_PROXIES")
# A MaxMind .mmdb country or city database to find a visitor's country in; empty: the database
# the geoip2fast package ships.
WHOLESALE_GEOIP_MMDB = os.environ.get("WHOLESALE_GEOIP_MMDB", "")
# A JSON feed of exchange rates, read once a day by wholesale.tasks.rates_refresh_task for the
# currencies marked "update from the rates feed"; empty: rates are only set by hand. Expected:
# {"base": "USD", "rates": {"EUR": "0.92", "JPY": "151.3", ...}} (units per 1 unit of "base").
WHOLESALE_RATES_URL = os.environ.get("WHOLESALE_RATES_URL", "")
WHOLESALE_RATES_TIMEOUT = env_int("WHOLESALE_RATES_TIMEOUT", 10)
WHOLESALE_SHOP_NAME = os.environ.get("WHOLESALE_SHOP_NAME", "Wholesale")
# The shop's public address, for links in emails sent outside a request (approval, tracking).
WHOLESALE_SITE_URL = os.environ.get("WHOLESALE_SITE_URL", "http://127.0.0.1:8000" if DEBUG else "")
WHOLESALE_NEW_ARRIVAL_DAYS = env_int("WHOLESALE_NEW_ARRIVAL_DAYS", 30)
# Products listed in one new-arrival alert email (members.subscriptions); it counts the rest.
WHOLESALE_NEW_ARRIVALS_ALERT_LIMIT = env_int("WHOLESALE_NEW_ARRIVALS_ALERT_LIMIT", 20)
WHOLESALE_LOW_STOCK = env_int("WHOLESALE_LOW_STOCK", 20)
# Logistics tracking (orders.tracking): "offline" (the built-in carrier) or "17track".
WHOLESALE_TRACKING_PROVIDER = os.environ.get("WHOLESALE_TRACKING_PROVIDER", "offline")
WHOLESALE_17TRACK_API_KEY = os.environ.get("WHOLESALE_17TRACK_API_KEY", "")
# A shipment checked this recently is skipped (a retry asks only about the failed batches).
WHOLESALE_TRACKING_RECHECK_MINUTES = env_int("WHOLESALE_TRACKING_RECHECK_MINUTES", 60)
WHOLESALE_PAGE_SIZE = env_int("WHOLESALE_PAGE_SIZE", 24)
# Seconds a rendered catalog fragment stays cached; 0 switches the page cache off.
WHOLESALE_PAGE_CACHE_SECONDS = env_int("WHOLESALE_PAGE_CACHE_SECONDS", 600)
WHOLESALE_SEARCH_MAX_LENGTH = 200
# The smallest order the shop accepts, as goods value in the base currency before shipping.
# A cart below it may be built up but not checked out; the cart page says what is missing.
WHOLESALE_MIN_ORDER_AMOUNT = Decimal(os.environ.get("WHOLESALE_MIN_ORDER_AMOUNT", "100"))
# Shipping insurance, offered and ticked by default at checkout: this percentage of the goods
# value, but never less than the minimum (base currency).
WHOLESALE_INSURANCE_PERCENT = Decimal(os.environ.get("WHOLESALE_INSURANCE_PERCENT", "1.5"))
WHOLESALE_INSURANCE_MINIMUM = Decimal(os.environ.get("WHOLESALE_INSURANCE_MINIMUM", "2.00"))
# Added to a dropship order (shipped blind to the buyer's own customer), base currency; 0: free.
WHOLESALE_DROPSHIP_FEE = Decimal(os.environ.get("WHOLESALE_DROPSHIP_FEE", "3.00"))
# How long a salesperson's referral link is remembered for a visitor who has not signed up yet.
WHOLESALE_REFERRAL_COOKIE_DAYS = env_int("WHOLESALE_REFERRAL_COOKIE_DAYS", 30)
# Order numbers: this prefix, then a running number.
WHOLESALE_ORDER_NUMBER_PREFIX = os.environ.get("WHOLESALE_ORDER_NUMBER_PREFIX", "W")
# An order not paid within this many hours is cancelled and gives its stock back. Bank
# transfers take days to arrive, so they get their own, longer, delay.
WHOLESALE_UNPAID_CARD_HOURS = env_int("WHOLESALE_UNPAID_CARD_HOURS", 2)
WHOLESALE_UNPAID_TRANSFER_HOURS = env_int("WHOLESALE_UNPAID_TRANSFER_HOURS", 7 * 24)
# Payment methods offered at checkout, in this order. "card" is offered only when Stripe keys
# are configured; "bank_transfer" always works.
WHOLESALE_PAYMENT_METHODS = [
    method.strip()
    for method in os.environ.get("WHOLESALE_PAYMENT_METHODS", "card,bank_transfer").split(",")
    if method.strip()
]
if not set(WHOLESALE_PAYMENT_METHODS) <= {"card", "bank_transfer"} or not WHOLESALE_PAYMENT_METHODS:
    raise ImproperlyConfigured("WHOLESALE_PAYMENT_METHODS: card and/or bank_transfer.")
# What a buyer paying by bank transfer needs, printed on the proforma invoice.
WHOLESALE_BANK_DETAILS = os.environ.get(
    "WHOLESALE_BANK_DETAILS",
    "Beneficiary: Demo Export Co., Ltd.\n"
    "Bank: Bank of China, Ningbo Branch\n"
    "Account (USD): 3602 0000 0000 0000\n"
    "SWIFT: BKCHCNBJ92A",
)
# The seller as printed on invoices.
WHOLESALE_SELLER_ADDRESS = os.environ.get(
    "WHOLESALE_SELLER_ADDRESS", "Demo Export Co., Ltd.\nNo. 1 Export Road\nNingbo, China"
)

# Uploaded product images: what we accept, and the renditions we make of them.
WHOLESALE_IMAGE_MAX_BYTES = env_int("WHOLESALE_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
WHOLESALE_IMAGE_MAX_PIXELS = env_int("WHOLESALE_IMAGE_MAX_PIXELS", 40_000_000)
WHOLESALE_IMAGE_MIN_SIDE = 100
WHOLESALE_IMAGE_RENDITIONS = {"thumb": 240, "medium": 640, "large": 1280}

# --- Uploads ----------------------------------------------------------------------------------
DATA_UPLOAD_MAX_NUMBER_FILES = 20
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The interface's languages; Portuguese is Brazil's, the market that speaks it.
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("fr", _("French")),
    ("de", _("German")),
    ("ru", _("Russian")),
    ("pl", _("Polish")),
    ("pt-br", _("Brazilian Portuguese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language a visitor chose (or was first sent to) is remembered for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("WHOLESALE_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("WHOLESALE_MEDIA_ROOT", BASE_DIR / "media"))
# In production a web server or object storage serves media; the demo lets Django do it.
WHOLESALE_SERVE_MEDIA = env_bool("WHOLESALE_SERVE_MEDIA", DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "shop@wholesale.test")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Payments (used from the ordering issue on) -----------------------------------------------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Seconds a signed webhook stays valid (Stripe's own default); never 0 or None, which would
# accept a replay of any old event.
STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", 300)
if STRIPE_WEBHOOK_TOLERANCE <= 0:
    raise ImproperlyConfigured("STRIPE_WEBHOOK_TOLERANCE must be a positive number of seconds.")

# --- Security ---------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("WHOLESALE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("WHOLESALE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# The health probe is called over plain HTTP by load balancers inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The stripe library logs every request at INFO; our gateway logs what matters.
        "stripe": {"level": "WARNING"},
    },
}

# The demo and the tests serve static files straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
