"""Settings, all from the environment; SQLite and a local broker by default."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("GRASSROOTS_HOME", Path.cwd() / "var")).resolve()
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and "GRASSROOTS_TEST_WORKER" not in os.environ:
    # A parallel test worker (pytest-xdist) keeps its own database, keys and files. Processes
    # its tests start inherit this home, or the home a test gives them, unchanged.
    HOME = HOME / _worker
    os.environ["GRASSROOTS_HOME"] = str(HOME)
    os.environ["GRASSROOTS_TEST_WORKER"] = _worker
HOME.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Read SECRET_KEY from the environment, or keep a generated one beside the data."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG")
ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "grassroots.core",
    "grassroots.units",
    "grassroots.accounts",
    "grassroots.content",
    "grassroots.broadcast",
    "grassroots.alerts",
    "grassroots.devices",
    "grassroots.live",
    "grassroots.signage",
    "grassroots.feedback",
    "grassroots.training",
    "grassroots.planning",
    "grassroots.kpi",
    "grassroots.exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "grassroots.core.middleware.RequestIdMiddleware",
    "grassroots.core.middleware.ContentSecurityPolicyMiddleware",
    "grassroots.core.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "grassroots.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "grassroots.core.middleware.CleanTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "grassroots.core.middleware.OutOfRangeMiddleware",
]
CSRF_FAILURE_VIEW = "grassroots.core.views.csrf_failure"
# Bootstrap's alert classes: an error message is red ("alert-danger"), not the unstyled
# "alert-error" Django's default tag would give.
MESSAGE_TAGS = {40: "danger"}  # django.contrib.messages.constants.ERROR

ROOT_URLCONF = "grassroots.config.urls"
WSGI_APPLICATION = "grassroots.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "grassroots.core.navigation.console_nav",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{HOME / 'grassroots.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # Tests use a file too (not Django's shared-cache in-memory database): live-server, gateway
    # and test threads then wait on each other's locks (busy_timeout) instead of failing with
    # "database table is locked", as they would in production.
    DATABASES["default"]["TEST"] = {"NAME": str(HOME / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console-home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no "AXES: BEGIN" banner on every command
AXES_LOCKOUT_CALLABLE = "grassroots.accounts.lockout.lockout_response"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["grassroots.config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", HOME / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", HOME / "media"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = _env_bool("SECURE_COOKIES")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

MQTT_URL = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")
# MQTT over WebSockets as browsers (e-boards) reach it, e.g. ws://127.0.0.1:18831/ or wss://...
MQTT_WS_URL = os.environ.get("MQTT_WS_URL", "")

# Live audio (live.actions): the Icecast that devices and officers listen to, e.g.
# http://127.0.0.1:18832 (`grassroots run` starts a private one and sets it), and where the live
# relay publishes (the same server unless a relay tier sits in front). Empty: no live broadcast.
ICECAST_URL = os.environ.get("ICECAST_URL", "").rstrip("/")
ICECAST_SOURCE_URL = os.environ.get("ICECAST_SOURCE_URL", ICECAST_URL).rstrip("/")
# Seconds without sound from the source after which a live session ends by itself.
LIVE_SOURCE_TIMEOUT = float(os.environ.get("GRASSROOTS_LIVE_SOURCE_TIMEOUT", "8"))

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

GRASSROOTS = {
    "PROVINCE_CODE": os.environ.get("GRASSROOTS_PROVINCE", "33"),
    "DEMO_PASSWORD": os.environ.get("GRASSROOTS_DEMO_PASSWORD", "grassroots-demo"),
    "HOME": HOME,
    # `province` (the default: communes under one province) or `central` (the national system:
    # provinces as units and as exchange peers), see docs/exchange.md
    "LEVEL": os.environ.get("GRASSROOTS_LEVEL", "province"),
    # This system's name in the federation protocol (`source` of what it sends)
    "EXCHANGE_ID": os.environ.get("GRASSROOTS_EXCHANGE_ID", ""),
    # Where the gateway keeps messages it received but could not store yet (spool) and those
    # no handler could take (dead letters): JSON lines, payloads in base64.
    "GATEWAY_STATE": HOME / "gateway",
    # one per gateway process sharing a broker: its MQTT client id and persistent session
    "GATEWAY_ID": os.environ.get("GRASSROOTS_GATEWAY_ID", "1"),
    # several gateways on one broker share the device traffic ($share); one subscribes plainly
    "GATEWAY_SHARED": os.environ.get("GRASSROOTS_GATEWAY_SHARED", "") in ("1", "true", "yes"),
    # Days a yearly report's exported file (PDF/DOCX/XLSX) is kept once a newer export of the
    # same report and format exists; the latest export of each is always kept (kpi/tasks.py).
    "REPORT_FILE_DAYS": int(os.environ.get("GRASSROOTS_REPORT_FILE_DAYS", "30")),
    # Public base URL used in links sent to citizens (email, SMS).
    "SITE_URL": os.environ.get("GRASSROOTS_SITE_URL", ""),
    # Dotted path of the SMS gateway backend (`send(phone, text)`); the default only logs.
    "SMS_BACKEND": os.environ.get(
        "GRASSROOTS_SMS_BACKEND", "grassroots.feedback.notify.LoggingSmsBackend"
    ),
    # The base layer of the fleet and KPI maps: an XYZ tile server the province runs
    # ({z}/{x}/{y}); unset, the maps draw communes on a plain background and need no network
    # (devices/maps.py).
    "MAP_TILES": os.environ.get("GRASSROOTS_MAP_TILES", ""),
    "MAP_ATTRIBUTION": os.environ.get("GRASSROOTS_MAP_ATTRIBUTION", ""),
    "MAP_MAX_ZOOM": os.environ.get("GRASSROOTS_MAP_MAX_ZOOM", "18"),
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "thongtincoso@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"one_line_403": {"()": "grassroots.core.middleware.OneLineForbidden"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"filters": ["one_line_403"]},
        # WeasyPrint (the yearly report's PDF) logs every layout step at INFO
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
