"""Content Security Policy: the policy every response carries, and its report endpoint.

Every script, style sheet, image, font and request comes from our own origin:
no inline ``<script>``, no ``on…=`` handlers, no ``style=`` attributes, no CDN.
Pages pass data to their scripts with ``json_script`` or ``data-`` attributes.
django-csp's middleware (``csp.middleware.CSPMiddleware``) writes the header;
this module only builds the policy from the settings and receives the reports
browsers send when something is blocked, so that an operator sees them in the
log.

An office that must load something from another origin (a single sign-on
portal's script, a map tile server) lists it in ``CSP_EXTRA_ORIGINS``; only
plain ``https://host[:port]`` origins are accepted, never keywords such as
``'unsafe-inline'`` or wildcards, which would switch the protection off.
"""

import json
import logging
import re

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger("relocation.csp")

REPORT_PATH = "/csp-report/"
# A browser's report is well under 4 KB; a bigger body is not a report.
REPORT_MAX_BYTES = 16 * 1024
# Directives that fetch something, and so may be widened by CSP_EXTRA_ORIGINS.
FETCH_DIRECTIVES = ("default-src", "script-src", "style-src", "img-src", "font-src", "connect-src")

_ORIGIN = re.compile(r"^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def extra_origins(values):
    """The validated origins of ``CSP_EXTRA_ORIGINS``; raises ``ImproperlyConfigured``."""
    origins = []
    for value in values:
        origin = value.strip().lower().rstrip("/")
        if not origin:
            continue
        if not _ORIGIN.match(origin):
            raise ImproperlyConfigured(
                f"CSP_EXTRA_ORIGINS 中的 {value!r} 不是形如 https://sso.example.gov.cn 的来源"
                "（只能是 https，不带路径、通配符或 'unsafe-…' 关键字）。"
                f" / {value!r} is not an origin like https://sso.example.gov.cn "
                "(https only, no path, no wildcard, no 'unsafe-…' keyword)."
            )
        origins.append(origin)
    return origins


def policy(origins=()):
    """The ``CONTENT_SECURITY_POLICY`` setting for django-csp 4, widened by ``origins``."""
    directives = {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "report-uri": [REPORT_PATH],
    }
    for name in FETCH_DIRECTIVES:
        directives[name] = directives[name] + list(origins)
    return {"EXCLUDE_URL_PREFIXES": [], "DIRECTIVES": directives}


def _clip(value, limit=300):
    return str(value)[:limit]


@csrf_exempt
def report(request):
    """Log a browser's violation report (``report-uri``); answers 204 whatever it gets.

    Anyone may post here (a blocked page may belong to a signed-out user), so the
    body is size-limited and only a few clipped fields reach the log.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = request.read(REPORT_MAX_BYTES + 1)
    if len(body) > REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return HttpResponse(status=400)
    details = data.get("csp-report") if isinstance(data, dict) else None
    if not isinstance(details, dict):
        return HttpResponse(status=400)
    logger.warning(
        "CSP violation: %s blocked %s on %s (%s:%s)",
        _clip(details.get("effective-directive") or details.get("violated-directive")),
        _clip(details.get("blocked-uri")),
        _clip(details.get("document-uri")),
        _clip(details.get("source-file", "")),
        _clip(details.get("line-number", "")),
    )
    return HttpResponse(status=204)
