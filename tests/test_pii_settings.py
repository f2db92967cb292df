"""Settings for the encryption of ID numbers and phones (communities.crypto).

Production (DEBUG off) refuses to start without explicit keys; a development
checkout with nothing set derives them from SECRET_KEY; malformed keys fail
``manage.py check`` with a message that says how to make one.
"""

import base64

from tests import test_deploy_settings as deploy_settings

PII = {"PII_ENCRYPTION_KEYS", "PII_HASH_KEY"}
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-9876",
    "ALLOWED_HOSTS": "relocation.example.gov.cn",
}


def key(seed):
    return base64.urlsafe_b64encode(seed.encode().ljust(32, b"0")).decode()


def run_manage(*args, **env):
    """``manage.py`` as in production: no .env, and no PII keys unless given ("" = unset)."""
    return deploy_settings.run_manage(*args, **{**dict.fromkeys(PII, ""), **env})


def test_production_refuses_to_start_without_encryption_keys():
    result = run_manage("check", **PRODUCTION)
    assert result.returncode != 0
    assert "PII_ENCRYPTION_KEYS" in result.stderr


def test_blank_keys_count_as_missing():
    result = run_manage("check", **PRODUCTION, PII_ENCRYPTION_KEYS=" , ", PII_HASH_KEY=" ")
    assert result.returncode != 0
    assert "PII_ENCRYPTION_KEYS" in result.stderr


def test_production_refuses_to_start_without_the_hash_key():
    result = run_manage("check", **PRODUCTION, PII_ENCRYPTION_KEYS=key("enc"))
    assert result.returncode != 0
    assert "PII_HASH_KEY" in result.stderr


def test_production_with_keys_passes_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        **PRODUCTION,
        PII_ENCRYPTION_KEYS=f"{key('new')},{key('old')}",
        PII_HASH_KEY=key("hash"),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_malformed_key_fails_the_check_with_a_recipe():
    result = run_manage(
        "check", **PRODUCTION, PII_ENCRYPTION_KEYS="not-a-key", PII_HASH_KEY=key("hash")
    )
    assert result.returncode != 0
    assert "communities.E001" in result.stderr
    assert "urlsafe_b64encode(os.urandom(32))" in result.stderr


def test_development_runs_without_keys():
    result = run_manage("check", DEBUG="true", SECRET_KEY="dev-secret-for-this-test-only-123456")
    assert result.returncode == 0, result.stderr
