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
