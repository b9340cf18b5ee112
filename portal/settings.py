"""Settings for the clinic-education portal.

Every deploy-specific value comes from the environment. Development works with no
environment at all (SQLite, console email, eager Celery); production refuses to start
without the values that must never have a default.
"""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

PORTAL_ENV = env.str("PORTAL_ENV", default="development")
if PORTAL_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"PORTAL_ENV must be 'development' or 'production', not {PORTAL_ENV!r}.")
PRODUCTION = PORTAL_ENV == "production"


def _required_in_production(name, development_default):
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when PORTAL_ENV=production.")
    return development_default


# The development key is public on purpose: it only ever signs local test data.
SECRET_KEY = _required_in_production(
    "SECRET_KEY", "django-insecure-development-only-key-never-used-in-production"
)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"],
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when PORTAL_ENV=production.")
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when PORTAL_ENV=production.")

# Used to build absolute links in emails sent outside a request (reminders, digests).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# The record system's API (portal.interop): the calls a client may make per minute, counted
# in the cache. Point CACHE_URL at Redis (redis://…) in production so that every server
# process shares the count; the default cache is each process's own memory.
API_CALLS_PER_MINUTE = env.int("API_CALLS_PER_MINUTE", default=600)
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "education",
    "portal",
    "portal.interop",
    "portal.caregivers",
]

MIDDLEWARE = [
    "portal.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything that answers early (the two-step redirect, the session time-out), so
    # every response carries it.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language, or the language cookie) for visitors; a
    # signed-in user's own choice replaces it after AuthenticationMiddleware.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.OwnNotFoundPageMiddleware",
    "accounts.middleware.RequireStaffSecondStepMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
            ],
        },
    },
]

# Database: SQLite beside the code for development, PostgreSQL through DATABASE_URL.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if PRODUCTION:
    # Persistent connections, checked before reuse so a restarted server is survived.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL's JIT compiles plans whose cost estimate is high, which the dashboard's
    # used to be: 212 of its 1,149 ms went to compiling. The portal's queries are short.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Parameters sent apart from the SQL, and a statement prepared on a connection's second
    # run of it: PostgreSQL then plans the visit summary's and the dashboard's joins once
    # per connection instead of on every request (1.3-1.4 ms of planning each, measured).
    # Prepared statements outlive a transaction, so a pooler must run in session mode.
    DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The dashboard's bulk assignment accepts 5,000 ticked patients (portal.forms) and its
# other fields; Django's default of 1,000 refused 1,000 patients with a bare 400.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5_100

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Signing out shows "You have signed out" with a link to sign in again.
LOGOUT_REDIRECT_URL = None
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UserWithClinicBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3  # three hours: long enough to find the email
# Sessions end after a quiet spell (shorter for staff, who see many patients' records)
# and, whatever the activity, after an absolute lifetime.
SESSION_IDLE_MINUTES_STAFF = env.int("SESSION_IDLE_MINUTES_STAFF", default=15)
SESSION_IDLE_MINUTES_PATIENT = env.int("SESSION_IDLE_MINUTES_PATIENT", default=30)
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 60 * 60
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)
# Sign-in lockout: 5 failures for one account from one address lock that pair for 15
# minutes. The address is compared as stored (lowercased), so capitals do not reset it.
AXES_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGN_IN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.security.username_for_lockout"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Two-step sign-in: required for staff in production; MFA_REQUIRED_FOR_STAFF=false for a demo.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=PRODUCTION)

# An editor may not approve a draft they loaded themselves: on in production.
TWO_PERSON_REVIEW = env.bool("TWO_PERSON_REVIEW", default=PRODUCTION)
OTP_TOTP_ISSUER = "Clinic education portal"
PASSWORD_RESETS_PER_ACCOUNT_HOUR = env.int("PASSWORD_RESETS_PER_ACCOUNT_HOUR", default=3)
PASSWORD_RESETS_PER_ADDRESS_HOUR = env.int("PASSWORD_RESETS_PER_ADDRESS_HOUR", default=10)
# Caregiver invitations one person may send per hour: each emails someone in the clinic's
# name, and each answer says something about an address.
CAREGIVER_INVITATIONS_PER_HOUR = env.int("CAREGIVER_INVITATIONS_PER_HOUR", default=5)
# A patient's emailed sign-in link: how long it works (once). Requests for one count with
# password resets against the two limits above.
SIGN_IN_LINK_MINUTES = env.int("SIGN_IN_LINK_MINUTES", default=15)

# Text-message reminders (portal/sms.py). The console backend prints them (development);
# portal.sms.HttpBackend posts them to a provider. Numbers typed without a country code are
# read as PHONE_DEFAULT_REGION's. No text is sent in the quiet hours, in the clinic's zone.
SMS_BACKEND = env.str("SMS_BACKEND", default="portal.sms.ConsoleBackend")
SMS_PROVIDER_URL = env.str("SMS_PROVIDER_URL", default="")
SMS_PROVIDER_TOKEN = env.str("SMS_PROVIDER_TOKEN", default="")
SMS_WEBHOOK_SECRET = env.str("SMS_WEBHOOK_SECRET", default="")
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US")
SMS_QUIET_HOURS = env.list("SMS_QUIET_HOURS", cast=int, default=[21, 8])

LANGUAGE_CODE = "en"
# Each language named in itself, as a language menu shows it to someone who reads only that one.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates written as each language writes them (portal/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as error:
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone.") from error
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic fills this in production; development serves straight from the apps.
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles") if PRODUCTION else None
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# Messages name patients and modules: keep them server-side, where signing out clears them,
# not in a readable cookie that outlives the session on a shared computer.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: EMAIL_URL (smtp+tls://user:password@host:587) wins; else EMAIL_HOST and
# friends; else, with DEBUG on (development), portal/dev_email.py, so development never needs a mail
# server: each email printed readably and kept in SENT_EMAILS_DIR, which staff read on the
# "Sent emails" page. SENT_EMAILS_DIR is set only here, so it also says the development
# backend was chosen: the page answers 404 without it (the test runner swaps EMAIL_BACKEND
# for its outbox, and leaves this). Without DEBUG (production, or a staging server) and
# without a mail server, emails print to the console and no page shows their links.
SENT_EMAILS_DIR = None
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
elif env.str("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env.int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
elif DEBUG:
    EMAIL_BACKEND = "portal.dev_email.EmailBackend"
    SENT_EMAILS_DIR = BASE_DIR / "var" / "sent-emails"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Clinic education portal <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: with no broker configured, tasks run in-process so development needs nothing.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# Optional: keep task results (the sweeps return what they planned and sent).
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=5 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT * 4 // 5
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged after it ran, so a worker killed mid-task leaves it on the queue.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The clinic overview's figures are summarised this often; older than FIGURES_MAX_AGE, the
# overview summarises them itself before showing them.
FIGURES_EVERY_SECONDS = env.int("FIGURES_EVERY_SECONDS", default=5 * 60)
FIGURES_MAX_AGE = timedelta(seconds=3 * FIGURES_EVERY_SECONDS)
CELERY_BEAT_SCHEDULE = {
    "summarise-clinics": {"task": "portal.tasks.summarise_clinics", "schedule": FIGURES_EVERY_SECONDS},
    "send-due-reminders": {"task": "portal.tasks.send_due_reminders", "schedule": 60 * 60},
    "send-visit-digests": {"task": "portal.tasks.send_visit_digests", "schedule": 60 * 60},
    # Recovery without a hand step: rows a crash, a database restart or a lost broker
    # message left unsent are queued again once their claim's lease has run out.
    "requeue-pending-reminders": {
        "task": "portal.tasks.requeue_pending_reminders",
        "schedule": env.int("REMINDER_REQUEUE_SECONDS", default=2 * 60),
    },
}
# A task a worker took and never acknowledged (it died) is handed out again after this;
# it must outlast the time limit, or a slow task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
# Reminder delivery: a claim older than the lease is taken over by the next sweep; a
# failing mail server is retried with exponential backoff from REMINDER_RETRY_SECONDS.
REMINDER_LEASE_MINUTES = env.int("REMINDER_LEASE_MINUTES", default=10)
REMINDER_RETRY_SECONDS = env.int("REMINDER_RETRY_SECONDS", default=60)
REMINDER_MAX_RETRIES = env.int("REMINDER_MAX_RETRIES", default=8)
# A worker killed between the mail server accepting emails and the portal marking them sent
# repeats those emails: at most this many per worker, whatever its number of processes.
REMINDER_MAX_DUPLICATES_PER_WORKER = env.int("REMINDER_MAX_DUPLICATES_PER_WORKER", default=10)
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
# Temporary failures (4xx, a server down) are retried across sweeps until a row is this old.
REMINDER_GIVE_UP_HOURS = env.int("REMINDER_GIVE_UP_HOURS", default=72)
if REMINDER_LEASE_MINUTES * 60 <= CELERY_TASK_TIME_LIMIT:
    # A lease shorter than a task may run lets a second delivery take over rows the first
    # is still sending: duplicates. Refuse to start rather than send twice.
    raise ImproperlyConfigured(
        f"REMINDER_LEASE_MINUTES ({REMINDER_LEASE_MINUTES}) must be longer than the delivery task's "
        f"time limit ({CELERY_TASK_TIME_LIMIT // 60} minutes)."
    )

# Security. Secure cookies, HSTS and the SSL redirect follow PORTAL_ENV; each can be
# overridden for a proxy that terminates TLS differently.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
if env.bool("BEHIND_TLS_PROXY", default=PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
if SESSION_COOKIE_SECURE:
    # __Host- cookies are refused by browsers unless secure, host-only and for path /.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# Only the portal's own origin: no inline script, no plugin, no framing, no <base>.
# Bootstrap's CSS draws its icons from data: SVGs, hence img-src data:.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Its lines are JSON already; runserver's own access log prints full paths.
        "portal.requests": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"level": "WARNING"},
    },
}
