"""Settings for the test suite: the real settings with test-only conveniences."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
# Fixed test keys (also for the benchmarks, which run with DEBUG off); two
# encryption keys so that rows under an older key are read like in production.
os.environ.setdefault(
    "PII_ENCRYPTION_KEYS",
    "dGVzdC1vbmx5LXBpaS1lbmNyeXB0aW9uLWtleS0wMDE=,dGVzdC1vbmx5LXBpaS1lbmNyeXB0aW9uLWtleS0wMDA=",
)
os.environ.setdefault("PII_HASH_KEY", "dGVzdC1vbmx5LXBpaS1oYXNoLWtleS0wMDAwMDAwMDA=")

from .settings import *  # noqa: F403

# Plain static storage: tests render pages without running collectstatic first.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files straight from the apps (no collectstatic) in live-server tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

if DATABASES["default"]["ENGINE"] == "relocation.sqlite":  # noqa: F405
    # The test database is a file, like the embedded default, not Django's
    # shared-cache memory database: there a thread that touches a table
    # another thread is writing fails at once with "database table is locked"
    # (no busy timeout applies), so the live server's requests, the job
    # worker's heartbeat and the tests' own queries broke each other at random.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}  # noqa: F405
