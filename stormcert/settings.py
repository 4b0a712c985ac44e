"""stormcert settings: one file, driven by the environment.

Development defaults come from a local .env that `make` writes (DEBUG=1 and a generated
SECRET_KEY). With DEBUG off, every secure default is on and the variables listed in the
README are required; `manage.py check --deploy` is clean then.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from stormcert.lib.env import env_bool, env_int, env_list, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
# DOTENV_FILE="" turns the file off (production, and tests of the strict checks).
_dotenv = env_str("DOTENV_FILE", default=str(BASE_DIR / ".env"))
if _dotenv:
    load_dotenv(Path(_dotenv))

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Run `make run` once (it writes a development .env), "
        "or set SECRET_KEY in the environment for production."
    )
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters when DEBUG is off.")
# Earlier keys, comma-separated, while a new SECRET_KEY is rolled out (deploy/README.md): sessions
# and signed links made with them are still accepted; new ones use SECRET_KEY.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("SITE_NAME", default="stormcert")

INSTALLED_APPS = [
    "stormcert.accounts.admin_site.StaffAdminConfig",  # django.contrib.admin, two-factor at the door
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "stormcert.core",
    "stormcert.accounts",
    "stormcert.audit",
    "stormcert.emails",
    "stormcert.programs",
    "stormcert.payments",
    "stormcert.training",
    "stormcert.enrollments",
    "stormcert.exams",
    "stormcert.trainers",
    "stormcert.courses",
    "stormcert.certificates",
    "stormcert.directory",
    "stormcert.renewals",
    "stormcert.backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "stormcert.core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "stormcert.core.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "stormcert.accounts.middleware.StaffMFAMiddleware",
    "stormcert.core.middleware.DatabaseUnavailableMiddleware",
    "stormcert.core.middleware.RulesMissingMiddleware",
]

ROOT_URLCONF = "stormcert.urls"
WSGI_APPLICATION = "stormcert.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "stormcert" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "stormcert.core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite by default; PostgreSQL (or anything dj-database-url knows) through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", default=0 if DEBUG else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue on the busy timeout instead of failing with "database is locked"
    # halfway through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", default=20),
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=134217728;"
            "PRAGMA journal_size_limit=27103364;"
            "PRAGMA cache_size=2000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits live here: shared across workers in production) ---------------
# Addresses (or networks, e.g. 10.0.0.0/24) of the proxies in front of the app (nginx): requests
# from them are counted against the client they forward for (X-Forwarded-For), in rate limits,
# sign-in throttling and the audit log. Empty: REMOTE_ADDR is the client (no proxy).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
REDIS_URL = env_str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Requests a minute one client address may make to the public directory, verification and API.
RATE_LIMIT_PUBLIC = env_str("RATE_LIMIT_PUBLIC", default="120/m")
# Certificate numbers one batch verification (CSV upload or API) may hold.
VERIFY_BATCH_MAX = env_int("VERIFY_BATCH_MAX", default=1000)

# The directory shows at most this many matches of one search (narrow it to see others).
DIRECTORY_RESULT_LIMIT = env_int("DIRECTORY_RESULT_LIMIT", default=200)
DIRECTORY_PAGE_SIZE = env_int("DIRECTORY_PAGE_SIZE", default=25)

# --- Credentials (signed Open Badges 3.0, see stormcert/certificates/credentials.py) -------
# Ed25519 private keys, one per program: CREDENTIAL_KEY_<CODE> (PEM text) or <dir>/<code>.pem.
CREDENTIAL_KEYS_DIR = Path(env_str("CREDENTIAL_KEYS_DIR", default=str(BASE_DIR / "var" / "keys")))
# Development generates a key on first use; production must be given one.
CREDENTIAL_KEYS_GENERATE = env_bool("CREDENTIAL_KEYS_GENERATE", default=DEBUG)

# --- Accounts ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

ACCOUNT_ADAPTER = "stormcert.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {
    "signup": "stormcert.accounts.forms.SignupForm",
    "login": "stormcert.accounts.forms.LoginForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = env_int("EMAIL_CONFIRMATION_EXPIRE_DAYS", default=3)
# Confirming the address in the browser that signed up signs the person in (allauth keeps who
# signed up in that session only): no second sign-in right after sign-up. A link opened on another
# device confirms the address and asks for the password, as a link alone must not sign anyone in.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True  # tell people when their password or address changes
# Sign-up, password reset and sign-in codes answer the same for every address, so nobody can
# learn from this site whether an address has an account (the public directory lists names, not
# addresses). The address's owner is told by email what happened instead: "you already have an
# account, here is how to get back in" or "there is no account with this address".
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
# A one-time code sent to the account's email signs a person in without the password: the way
# in when password sign-in is paused after wrong guesses (see login_failed below). Staff with an
# authenticator are still asked for their two-factor code after it.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = env_int("LOGIN_BY_CODE_TIMEOUT", default=10 * 60)
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_RATE_LIMITS = {
    # Failed password sign-ins are counted three ways (stormcert.accounts.adapter.pre_authenticate):
    # - per client address, any account: 20 a minute;
    # - per account and client address: 5 in five minutes and 20 a day ("login_failed_from_address");
    # - per account from anywhere: 100 a day, the ceiling against guessing from many addresses.
    # A stranger's wrong guesses pause password sign-in from the stranger's address only; one
    # address cannot reach the ceiling alone. Whoever is paused, the owner can sign in with a
    # one-time code emailed to the account's address, and a password reset clears the counts.
    # allauth counts wrong two-factor codes under "login_failed" too (per account: 100 a day).
    "login_failed": env_str("RATE_LIMIT_LOGIN_FAILED", default="20/m/ip,100/d/key"),
    "login_failed_from_address": env_str("RATE_LIMIT_LOGIN_FAILED_FROM_ADDRESS", default="5/5m/key,20/d/key"),
    # Sign-in codes asked for: 3 a minute per email address, 20 a minute per client address.
    "request_login_code": "20/m/ip,3/m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/5m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# Accept the previous and next 30-second code too (RFC 6238 clock drift and slow typing).
MFA_TOTP_TOLERANCE = 1

# --- Email ------------------------------------------------------------------------------
# Every message is stored in the outbox (stormcert.emails) and then handed to this backend.
# "outbox" keeps messages only (development); "smtp" sends for real (production).
EMAIL_DELIVERY = env_str("EMAIL_DELIVERY", default="outbox" if DEBUG else "smtp")
EMAIL_BACKEND = {
    "outbox": "django.core.mail.backends.dummy.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}.get(EMAIL_DELIVERY, "")
if not EMAIL_BACKEND:
    raise ImproperlyConfigured(f"EMAIL_DELIVERY={EMAIL_DELIVERY!r}: use outbox, smtp, locmem or console.")
EMAIL_HOST = env_str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env_int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=20)
# A message the relay refused is tried again (tick) up to this many times in all, then left
# failed on the staff outbox for someone to look at.
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", default=8)
# The sender every email shows; set it to the program office's own name and address.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <noreply@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Payments ---------------------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", default="")  # tests point the SDK at a local stand-in
# Seconds a webhook may be old (Stripe's signed timestamp) before it is refused.
STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", default=300)
PAYMENTS_TEST_MODE = env_bool("PAYMENTS_TEST_MODE", default=DEBUG)
PAYMENTS_CHECK_ENABLED = env_bool("PAYMENTS_CHECK_ENABLED", default=True)
PAYMENTS_CHECK_INSTRUCTIONS = env_str(
    "PAYMENTS_CHECK_INSTRUCTIONS",
    default=(
        "Make your check payable to the program office and write your order number on it. "
        "Mail it to: Program Office, 1000 Capitol Mall, Sacramento, CA 95814. "
        "To pay by purchase order, email the PO with your order number to office@example.org."
    ),
)
# How long a payment confirmation waits for a row lock before answering 503 (Stripe retries).
PAYMENTS_LOCK_TIMEOUT_MS = env_int("PAYMENTS_LOCK_TIMEOUT_MS", default=5000)

# --- Tasks ------------------------------------------------------------------------------
TASKS_BACKEND = env_str("TASKS_BACKEND", default="immediate")
TASKS = {
    "default": {
        "BACKEND": {
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "database": "django_tasks_db.DatabaseBackend",
        }[TASKS_BACKEND]
    }
}

# The health check's thresholds (core/health.py): older than these, /health/ says "warn".
HEALTH_TASK_AGE_SECONDS = env_int("HEALTH_TASK_AGE_SECONDS", default=300)
HEALTH_TICK_AGE_SECONDS = env_int("HEALTH_TICK_AGE_SECONDS", default=300)

# --- Internationalisation and time -------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Los_Angeles"  # the program's zone for display; storage is UTC
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "stormcert" / "static"]
# Uploaded documents live here; no URL serves this folder, only views that check permissions.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", default=10) * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (on whenever DEBUG is off) -------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every response (django-csp), in development too so a violation shows
# up before production. Scripts only from our own files: no inline scripts or handlers anywhere.
# Styles allow inline because charts and bars set data-driven widths in style attributes and the
# report charts are SVG with embedded styles; the risk is CSS injection, which autoescaping blocks.
# A view that sets its own policy (documents served with "sandbox") keeps it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # The training's videos come from these two players only (training.models.video_embed_url).
        "frame-src": ["https://www.youtube-nocookie.com", "https://player.vimeo.com"],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        # Paying redirects a form post on to Stripe Checkout; browsers hold redirects to form-action.
        "form-action": [SELF, *env_list("CSP_FORM_ACTION_EXTRA", default=["https://checkout.stripe.com"])],
    }
}
# What browsers may use: nothing this site needs (camera, microphone, location, payment APIs).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
    # django_tasks logs every task start and finish at INFO: noise in `make run` and in logs.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "django_tasks": {"level": "WARNING"}},
}
