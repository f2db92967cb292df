"""Content Security Policy: the header on every response, no inline code, deploy checks clean.

The browser side (nothing blocked on any main screen) is in
``tests/browser/test_csp_browser.py``.
"""

import json
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from communities.tests.conftest import world  # noqa: F401  (the shared data set)
from relocation import content_security
from tests.test_deploy_settings import run_manage

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 30 + "-production-secret-key-with-enough-entropy-1234",
    "ALLOWED_HOSTS": "relocation.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://relocation.example.gov.cn",
}
EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "report-uri": ["/csp-report/"],
}


def directives(header):
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_policy(response, where):
    header = response.get("Content-Security-Policy")
    assert header, f"{where} ({response.status_code}): no Content-Security-Policy header"
    assert directives(header) == EXPECTED, where
    assert "unsafe" not in header


# --- the header -----------------------------------------------------------------


@pytest.fixture
def pages(world):  # noqa: F811
    """(user, path) pairs covering each kind of page the product serves."""
    hh, head = world.households["a"], world.heads["a"]
    return [
        (None, "/"),
        (None, "/admin/login/"),
        (None, "/admin/communities/household/"),  # redirect to the login page
        (None, "/static/relocation/admin.js"),
        (None, "/static/dashboards/charts.js"),
        (world.admin, "/admin/"),
        (world.admin, "/admin/communities/household/"),
        (world.admin, f"/admin/communities/household/{hh.pk}/change/"),
        (world.admin, f"/admin/communities/household/{hh.pk}/history/"),
        (world.admin, "/admin/communities/household/export/"),
        (world.admin, "/admin/communities/person/"),
        (world.admin, f"/admin/communities/person/{head.pk}/change/"),
        (world.admin, f"/admin/communities/person/{head.pk}/history/"),
        (world.admin, "/admin/imports/"),
        (world.admin, "/admin/jsi18n/"),
        (world.county, "/admin/communities/household/"),
        (world.county, f"/admin/communities/person/{head.pk}/change/"),
        (world.county, "/admin/worklists/"),
        (world.worker, "/admin/communities/person/"),
        (world.county, "/dashboard/"),
        (world.county, "/dashboard/522301/"),
        (world.county, f"/dashboard/settlement/{world.a.pk}/"),
        (world.county, "/dashboard/522301/?kind=quarter"),
        (world.county, f"/dashboard/settlement/{world.c.pk}/"),  # outside the area: 404
        (world.county, "/admin/communities/household/999999999/change/"),  # 404
        (world.county, "/no-such-page/"),  # 404
    ]


def fetch(user, path):
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(path)
    if response.streaming:  # static files: reading them to the end closes them
        b"".join(response.streaming_content)
    return response


def test_every_kind_of_response_carries_the_policy(pages):
    statuses = set()
    for user, path in pages:
        response = fetch(user, path)
        statuses.add(response.status_code)
        assert_policy(response, path)
    assert {200, 302, 404} <= statuses


@pytest.mark.urls("tests.csp_urls")
def test_a_server_error_page_carries_the_policy(db, caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.CRITICAL, logger="django.request"):
        response = client.get("/csp-test-failure/")
    assert response.status_code == 500
    assert "系统出错" in response.content.decode()
    assert_policy(response, "500")


def test_posts_and_json_answers_carry_the_policy(world):  # noqa: F811
    client = Client()
    response = client.post(
        "/admin/login/", {"username": world.county.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert_policy(response, "failed login")
    response = client.post("/csp-report/", b"{}", content_type="application/csp-report")
    assert_policy(response, "report endpoint")


def test_a_csrf_failure_is_explained_in_chinese_under_the_policy(world):  # noqa: F811
    """Django's own CSRF page styles itself inline; ours is blocked by nothing."""
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/admin/login/",
        {"username": world.county.username, "password": world.county.plain_password},
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "请求未被接受" in html and "数据没有改动" in html
    assert inline_code(html) == []
    assert_policy(response, "CSRF failure")
    assert "_auth_user_id" not in client.session  # the login did not happen

    english = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    response = english.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "Request not accepted" in response.content.decode()


# --- no inline code in what we send --------------------------------------------


class InlineCode(HTMLParser):
    """Collects what a strict policy would block in an HTML document."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # json_script data (type application/json) is never run.
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append(f"<script> without src: {attrs}")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value}>")


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_detector_finds_inline_code():
    html = (
        '<script>alert(1)</script><script src="/static/a.js"></script>'
        '<script id="d" type="application/json">{}</script>'
        '<select onchange="go()"></select><p style="color: red"></p>'
        '<a href="javascript:void(0)">x</a><style>p {}</style>'
    )
    assert len(inline_code(html)) == 5


def test_rendered_pages_have_no_inline_script_handler_or_style(pages):
    checked = 0
    for user, path in pages:
        response = fetch(user, path)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        assert inline_code(response.content.decode()) == [], path
        checked += 1
    assert checked >= 15


TEMPLATE_RULES = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "on…= handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "style= attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_templates_have_no_inline_code():
    """Every template we ship or override (pages never rendered in a test included)."""
    templates = sorted((ROOT / "templates").rglob("*.html"))
    templates += sorted(ROOT.glob("*/templates/**/*.html"))
    templates += sorted(ROOT.glob("relocation/*/templates/**/*.html"))
    assert len(templates) >= 10
    for template in templates:
        text = template.read_text(encoding="utf-8")
        for rule, pattern in TEMPLATE_RULES.items():
            assert not pattern.search(text), f"{template.relative_to(ROOT)}: {rule}"


# --- configuration -------------------------------------------------------------


def test_extra_origins_accepts_plain_https_origins():
    assert content_security.extra_origins(
        ["https://sso.example.gov.cn", " https://Tiles.Example.cn:8443/ ", ""]
    ) == ["https://sso.example.gov.cn", "https://tiles.example.cn:8443"]
    policy = content_security.policy(["https://sso.example.gov.cn"])["DIRECTIVES"]
    for name in content_security.FETCH_DIRECTIVES:
        assert policy[name][-1] == "https://sso.example.gov.cn"
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    "value",
    [
        "'unsafe-inline'",
        "*",
        "https://*.example.cn",
        "http://sso.example.gov.cn",
        "https://sso.example.gov.cn/login",
        "data:",
        "sso.example.gov.cn",
        "https://a.cn 'unsafe-eval'",
    ],
)
def test_extra_origins_refuses_what_would_weaken_the_policy(value):
    with pytest.raises(ImproperlyConfigured, match="CSP_EXTRA_ORIGINS"):
        content_security.extra_origins([value])


def test_settings_read_extra_origins_from_the_environment():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; import json;"
        "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src']))",
        CSP_EXTRA_ORIGINS="https://sso.example.gov.cn",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "'self'",
        "https://sso.example.gov.cn",
    ]


def test_a_weakening_extra_origin_stops_the_server_with_a_clear_message():
    result = run_manage("check", CSP_EXTRA_ORIGINS="'unsafe-inline'", **PRODUCTION)
    assert result.returncode != 0
    assert "CSP_EXTRA_ORIGINS" in result.stderr
    assert "不是" in result.stderr


def test_check_deploy_is_clean_at_warning_level_with_the_policy_on():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    # Only django-axes' advice to lock out by address too is silenced: a township office
    # shares one address, so the lockout is by user name alone (README, Sign-in).
    assert "System check identified no issues (1 silenced)." in result.stdout
    from django.conf import settings

    assert settings.SILENCED_SYSTEM_CHECKS == ["axes.W006"]


def test_production_settings_enable_the_middleware_before_static_files():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; import json; print(json.dumps(settings.MIDDLEWARE))",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    middleware = json.loads(result.stdout.strip().splitlines()[-1])
    csp = middleware.index("csp.middleware.CSPMiddleware")
    assert csp < middleware.index("whitenoise.middleware.WhiteNoiseMiddleware")


# --- the report endpoint -------------------------------------------------------

REPORT = {
    "csp-report": {
        "document-uri": "https://relocation.example.gov.cn/dashboard/522301/",
        "effective-directive": "style-src-attr",
        "violated-directive": "style-src-attr",
        "blocked-uri": "inline",
        "source-file": "https://relocation.example.gov.cn/static/x.js",
        "line-number": 12,
    }
}


def post_report(body, **kw):
    return Client().post("/csp-report/", body, content_type="application/csp-report", **kw)


def test_a_violation_report_is_logged(db, caplog):
    with caplog.at_level(logging.WARNING, logger="relocation.csp"):
        response = post_report(json.dumps(REPORT))
    assert response.status_code == 204
    (record,) = caplog.records
    message = record.getMessage()
    assert "style-src-attr" in message and "/dashboard/522301/" in message and ":12" in message


def test_a_report_longer_than_a_field_is_clipped(db, caplog):
    report = {"csp-report": {**REPORT["csp-report"], "blocked-uri": "https://x.cn/" + "a" * 5000}}
    with caplog.at_level(logging.WARNING, logger="relocation.csp"):
        assert post_report(json.dumps(report)).status_code == 204
    assert len(caplog.records[0].getMessage()) < 1500


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"csp-report": "x"}', 400),
        (b'{"csp-report": {"blocked-uri": "' + b"a" * 20_000 + b'"}}', 413),
    ],
)
def test_a_bad_report_is_refused_and_not_logged(db, caplog, body, status):
    with caplog.at_level(logging.WARNING, logger="relocation.csp"):
        response = post_report(body)
    assert response.status_code == status
    assert [r for r in caplog.records if r.name == "relocation.csp"] == []


def test_the_report_endpoint_only_takes_posts(db):
    assert Client().get("/csp-report/").status_code == 405


def test_a_limited_user_gets_the_same_policy(world):  # noqa: F811
    """The policy does not depend on who asks: a worker's pages carry it too."""
    response = fetch(world.worker, "/admin/communities/household/")
    assert response.status_code == 200
    assert_policy(response, "worker's list")
