"""Load test: officials and community workers on the production start, over loopback.

A bounded client of the standard library (threads and ``http.client``): every virtual
user signs in through the admin's sign-in page with its own session and then follows
its role's path until the time is up.

* officials (the demo's province, prefecture and county logins): the dashboard of
  their area, a child area's dashboard (down to the settlement), a drill-down list
  behind a card, a household search by head's name or by 户编号;
* community workers (the demo's ``worker``): their household list, a household's
  change form, a save (a real POST with the CSRF token) that adds a marker to 备注,
  and later a second save that removes it again, so that every household ends as it
  was; each of those saves still adds a change-history row, so that afterwards the
  benchmarks that want an unedited demo (``guard.require_demo_data``: ``dashboards.py``,
  ``read_audit.py``) refuse that database;
* with ``--import-rows N`` an administrator meanwhile uploads an N-row roster
  (N/4 households of four) through the import pages into a settlement that the
  script first creates through the same pages (安置点 import), confirms it once the
  job worker has checked it, and the job worker commits it while the load runs.
  Afterwards the script deletes that settlement and everything the roster created,
  and refuses to delete anything else (``benchmarks/guard.py``): the check must
  report only new rows (no ID number of the file matched a person already in the
  database), and every household and person removed must have been created by that
  import job.

Each think time is a random 1–5 s (``--think``); ``--think 0`` measures capacity.
At the end it prints per page name: requests, failures, p50/p95/p99 ms and max, and
the throughput (requests/s, and per core); failures are listed by status.  With
``--serve`` also the server's own time per page (gunicorn's access log: the rest of the
client's time is the wait for a free worker process), the CPU seconds of gunicorn and
the job worker, and how busy the whole machine was.

Why not locust: the paths are a few dozen lines of plain Python either way, and this
needs no package beyond the project's (locust pulls in gevent, Flask and more). Fifty
threads mostly waiting cost the client little CPU (printed, to check), and the
figures are the same kind (client-side, per request, including the wait for a worker).

Start the server as in production (gunicorn with ``deploy/gunicorn.conf.py``,
DEBUG off, whitenoise, the job worker beside it) with ``--serve``: the script runs
``collectstatic``, starts both on the address of ``--url`` and stops them at the end.
It never migrates: the database must be ready (``make serve`` or ``migrate`` first).
Its keys are those of the checkout's development ``.env`` (the demo databases on this
machine were built with them), written to ``.make/load.env``.

    createdb -h 127.0.0.1 -U postgres relocation_load
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/relocation_load
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py load_regions --province 52
    .venv/bin/python manage.py load_demo --households 5000
    .venv/bin/python benchmarks/load.py --serve --url http://127.0.0.1:8701 --duration 60
    .venv/bin/python benchmarks/load.py --serve --url http://127.0.0.1:8701 --import-rows 100000

Against a server started otherwise, leave out ``--serve`` (``--url`` is where it
listens; with ``--import-rows`` the script also needs ``DATABASE_URL`` for the guard
and the removal).
"""

import argparse
import base64
import hashlib
import hmac
import html
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import machine  # benchmarks/machine.py (the script's own folder)

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MARKER = "[负载测试]"
SETTLEMENT_PREFIX = "LOADTEST"  # the script's own settlement codes
HOUSEHOLD_PREFIX = "LT"  # and household numbers

PASSWORDS = {
    "admin": "Yanshi-2024-admin",
    "worker": "Yanshi-2024-worker",
    "county": "Yanshi-2024-county",
    "prefecture": "Yanshi-2024-prefecture",
    "province": "Yanshi-2024-province",
}
# The mix of the virtual users: (login, share).  A fifth are community workers.
MIX = (("province", 0.12), ("prefecture", 0.24), ("county", 0.44), ("worker", 0.20))


# --------------------------------------------------------------------------- measuring


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples = defaultdict(list)  # name -> [ms]
        self.failures = defaultdict(list)  # name -> [reason]
        self.measuring = False
        self.started = self.stopped = None

    def add(self, name, ms, failure=None):
        with self.lock:
            if not self.measuring:
                return
            self.samples[name].append(ms)
            if failure:
                self.failures[name].append(failure)


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# --------------------------------------------------------------------------- a browser


class FormParser(HTMLParser):
    """The fields a browser would submit with each form of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.form = None
        self.select = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = {"action": a.get("action") or "", "id": a.get("id"), "fields": []}
            self.forms.append(self.form)
        if self.form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form["fields"].append([name, a.get("value", "on")])
                return
            self.form["fields"].append([name, a.get("value") or ""])
        elif tag == "select" and name:
            self.select = {"name": name, "multiple": "multiple" in a, "chosen": [], "first": None}
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in a:
                self.select["chosen"].append(value)
        elif tag == "textarea" and name:
            self.textarea = [name, ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self.select is not None:
            s = self.select
            chosen = s["chosen"] or ([] if s["multiple"] or s["first"] is None else [s["first"]])
            self.form["fields"].extend([s["name"], v] for v in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            # A browser drops the newline right after <textarea>.
            self.form["fields"].append([name, text[1:] if text.startswith("\n") else text])
            self.textarea = None
        elif tag == "form":
            self.form = None


def forms_of(text):
    parser = FormParser()
    parser.feed(text)
    return parser.forms


class RequestFailed(Exception):
    pass


class Browser:
    """One signed-in person: cookies, the CSRF token, one connection per request."""

    def __init__(self, base, stats, timeout=60):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80
        self.origin = f"{url.scheme}://{url.netloc}"
        self.stats = stats
        self.timeout = timeout
        self.cookies = {}

    def request(self, method, path, name, data=None, body=None, content_type=None, expect=(200,)):
        headers = {"Host": f"{self.host}:{self.port}", "Accept-Language": "zh-hans"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            content_type = "application/x-www-form-urlencoded"
        if body is not None:
            headers["Content-Type"] = content_type
            headers["Referer"] = self.origin + path
            headers["Origin"] = self.origin
        started = time.perf_counter()
        failure = None
        status, location, text = 0, "", ""
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            finally:
                conn.close()
            status = response.status
            location = response.getheader("Location") or ""
            for cookie in response.headers.get_all("Set-Cookie") or []:
                key, _, rest = cookie.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
            text = raw.decode("utf-8", "replace")
            if status not in expect:
                failure = f"HTTP {status}" + (f" → {location.split('?')[0]}" if location else "")
            elif status == 302 and "/login/" in location:
                failure = "signed out"
        except (OSError, http.client.HTTPException) as exc:
            failure = type(exc).__name__
        ms = (time.perf_counter() - started) * 1000
        self.stats.add(name, ms, failure)
        if failure:
            raise RequestFailed(f"{name} {path}: {failure}")
        return status, location, text

    def get(self, path, name, expect=(200,)):
        return self.request("GET", path, name, expect=expect)

    def post(self, path, name, data, expect=(302,)):
        return self.request("POST", path, name, data=data, expect=expect)

    def sign_in(self, username, password):
        _, _, text = self.get("/admin/login/", "sign-in page")
        form = next(f for f in forms_of(text) if any(k == "password" for k, _ in f["fields"]))
        fields = dict(form["fields"])
        fields.update(username=username, password=password, next="/admin/")
        self.post("/admin/login/", "sign-in", fields)
        if "sessionid" not in self.cookies:
            raise RequestFailed(f"{username} could not sign in")


# --------------------------------------------------------------------------- page names

DASHBOARD = re.compile(r'href="(/dashboard/(?:settlement/\d+|\d+)/)(?:\?[^"]*)?"')
ADMIN_LIST = re.compile(r'href="(/admin/[a-z_]+/[a-z_]+/\?[^"]*)"')
HOUSEHOLD_ROW = re.compile(r'href="/admin/communities/household/(\d+)/change/[^"]*">([^<]+)</a>')
HEAD_NAME = re.compile(r'<td class="field-head_name">([^<]+)</td>')


def dashboard_name(path):
    if "/settlement/" in path:
        return "dashboard settlement"
    code = path.strip("/").split("/")[-1]
    if len(code) > 6:
        return "dashboard township"
    if code.endswith("0000"):
        return "dashboard province"
    if code.endswith("00"):
        return "dashboard prefecture"
    return "dashboard county"


def links(text, pattern):
    return sorted({html.unescape(m) for m in pattern.findall(text)})


# --------------------------------------------------------------------------- the users


class Stop(Exception):
    pass


class VirtualUser(threading.Thread):
    def __init__(self, number, login, args, stats, stop, households=None):
        super().__init__(name=f"{login}-{number}", daemon=True)
        self.number, self.login, self.args = number, login, args
        self.stats, self.stop = stats, stop
        self.rng = random.Random(args.seed * 1000 + number)
        self.browser = Browser(args.url, stats)
        self.households = households
        self.ready = threading.Event()
        self.error = None

    def think(self):
        low, high = self.args.think
        if self.stop.wait(self.rng.uniform(low, high) if high else 0):
            raise Stop

    def run(self):
        try:
            self.browser.sign_in(self.login, PASSWORDS[self.login])
            self.prepare()
        except Exception as exc:  # reported by the main thread
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.args.go.wait()
        while not self.stop.is_set():
            try:
                self.iteration()
            except Stop:
                break
            except RequestFailed:
                # Counted already; start the path again after a pause.
                if self.stop.wait(1):
                    break
        self.finish()

    def prepare(self):
        pass

    def finish(self):
        pass


class Official(VirtualUser):
    """Dashboard of the area, a child area, a drill-down list, a household search."""

    def prepare(self):
        # Search terms from the households the official may see (not timed).
        _, _, text = self.browser.get("/admin/communities/household/", "warm-up")
        self.numbers = [n.strip() for _, n in HOUSEHOLD_ROW.findall(text)]
        self.names = [n.strip() for n in HEAD_NAME.findall(text) if n.strip()]
        if not self.numbers:
            raise RequestFailed(f"{self.login}: no household on the first list page")

    def iteration(self):
        _, location, text = self.browser.get("/dashboard/", "dashboard home", expect=(200, 302))
        if location:
            path = urllib.parse.urlsplit(location).path
            _, _, text = self.browser.get(path, dashboard_name(path))
        self.think()
        # Down the tree: a child area, sometimes a grandchild, until a settlement.
        for _depth in range(self.rng.choice((1, 1, 2, 3))):
            children = links(text, DASHBOARD)
            if not children:
                break
            path = self.rng.choice(children)
            _, _, text = self.browser.get(path, dashboard_name(path))
            self.think()
            if "/settlement/" in path:
                break
        lists = links(text, ADMIN_LIST)
        if lists:
            self.browser.get(self.rng.choice(lists), "drill-down list")
            self.think()
        if self.rng.random() < 0.5 and self.names:
            term = self.rng.choice(self.names)[:2]
            name = "household search (name)"
        else:
            term = self.rng.choice(self.numbers)
            name = "household search (户编号)"
        self.browser.get(
            "/admin/communities/household/?" + urllib.parse.urlencode({"q": term}), name
        )
        self.think()


SAVES = {True: 0, False: 0}  # saves that added / removed the marker, measured or not
SAVES_LOCK = threading.Lock()


class Worker(VirtualUser):
    """Opens households of their settlements and saves them: marker on, later off."""

    def prepare(self):
        self.pending = None  # a household saved with the marker, to be saved back

    def change_path(self, pk):
        return f"/admin/communities/household/{pk}/change/"

    def save(self, pk, add_marker):
        path = self.change_path(pk)
        _, _, text = self.browser.get(path, "household form")
        form = next(f for f in forms_of(text) if f["id"] == "household_form")
        fields = form["fields"]
        for field in fields:
            if field[0] == "notes":
                # The form strips blanks at both ends, and so does the marker's removal.
                note = field[1].replace(MARKER, "").rstrip()
                field[1] = f"{note} {MARKER}".lstrip() if add_marker else note
        fields.append(["_save", "保存"])
        if not self.stop.is_set() or not add_marker:
            _, location, text = self.browser.request(
                "POST",
                path,
                "household save",
                body=urllib.parse.urlencode([tuple(f) for f in fields]).encode(),
                content_type="application/x-www-form-urlencoded",
                expect=(302,),
            )
            if "/change/" in location:
                raise RequestFailed(f"household {pk} was not saved")
            with SAVES_LOCK:
                SAVES[add_marker] += 1
            return True
        return False

    def iteration(self):
        self.browser.get("/admin/communities/household/", "household list")
        self.think()
        if self.pending is not None:
            pk, self.pending = self.pending, None
            self.save(pk, add_marker=False)
        else:
            pk = self.rng.choice(self.households)
            self.pending = pk  # before the POST: a failed save is retried as a removal
            self.save(pk, add_marker=True)
        self.think()

    def finish(self):
        # Outside the measurement: the household saved with the marker gets it back off.
        if self.pending is not None:
            try:
                self.save(self.pending, add_marker=False)
                self.pending = None
            except (RequestFailed, StopIteration) as exc:
                self.error = exc


# --------------------------------------------------------------------------- the import


def django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings")
    os.environ.setdefault("DEBUG", "true")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def id_number(n):
    """Valid ID numbers of 贵阳市南明区 (520102): the demo only makes 六盘水 and 黔西南 ones."""
    import datetime

    from communities.validators import check_digit

    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=n // 500)
    first17 = f"520102{born:%Y%m%d}{n % 500 * 2 + n % 2:03d}"
    return first17 + check_digit(first17)


def csv_bytes(kind_key, rows):
    import csv
    import io

    from relocation.spreadsheets.kinds import get_kind

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(c.header) for c in get_kind(kind_key).columns])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def roster_rows(count, code):
    from relocation.spreadsheets.kinds import get_kind

    keys = [c.key for c in get_kind("roster").columns]
    rng = random.Random(14)
    surnames, given = (
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗龙韦石潘陆岑",
        "秀英国强明华丽娟建军志刚海燕春梅小红文杰玉兰德福金凤家豪雨涵",
    )
    household = {
        "settlement": code,
        "relocation_year": 2018,
        "category": "建档立卡脱贫户",
        "occupancy_state": "已入住",
        "hukou_state": "户籍已迁入",
        "area": 80,
    }
    rows, n = [], 0
    for h in range(count // 4):
        for relationship in ("户主", "配偶", "子", "女"):
            values = dict(household, number=f"{HOUSEHOLD_PREFIX}{h:08d}")
            values.update(
                name=rng.choice(surnames) + rng.choice(given) + rng.choice(given),
                id_number=id_number(n),
                relationship=relationship,
            )
            n += 1
            rows.append([values.get(k, "") for k in keys])
    return rows


def multipart(fields, file_field, file_name, content):
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{file_name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Importer(threading.Thread):
    """An administrator imports a roster while the others work (its requests are timed too)."""

    def __init__(self, args, stats, stop, code):
        super().__init__(name="importer", daemon=True)
        self.args, self.stats, self.stop, self.code = args, stats, stop, code
        self.browser = Browser(args.url, stats, timeout=300)
        self.report = {}
        self.error = None
        self.jobs = []
        self.ready = threading.Event()

    def upload(self, kind, file_name, content):
        _, _, text = self.browser.get("/admin/imports/", "import page")
        form = next(f for f in forms_of(text) if f["action"].endswith("/upload/"))
        fields = [f for f in form["fields"] if f[0] != "kind"] + [["kind", kind]]
        body, content_type = multipart(fields, "file", file_name, content)
        _, location, _ = self.browser.request(
            "POST",
            "/admin/imports/upload/",
            "import upload",
            body=body,
            content_type=content_type,
            expect=(302,),
        )
        match = re.search(r"/admin/imports/([0-9a-f-]{36})/", location)
        if not match:
            raise RequestFailed(f"{kind} upload refused: {location}")
        self.jobs.append(match.group(1))
        return match.group(1)

    def wait(self, job, states, limit=1800):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            _, _, text = self.browser.get(f"/admin/imports/{job}/progress/", "import progress")
            state = re.search(r'"state": "(\w+)"', text).group(1)
            if state in states:
                return state
            time.sleep(2)
        raise RequestFailed(f"import job {job} still not {states}")

    def check_and_commit(self, job, rows, label):
        from relocation.spreadsheets.models import ImportJob

        started = time.monotonic()
        state = self.wait(job, ("ready", "invalid", "failed"))
        checked = ImportJob.objects.get(pk=job)
        self.report[f"{label} check"] = time.monotonic() - started
        # The guard: the file may only add rows; a row matching a record already in the
        # database (an ID number, a 户编号, a settlement code) would change others' data.
        if state != "ready" or checked.updated_rows or checked.new_rows != rows:
            self.browser.post(f"/admin/imports/{job}/cancel/", "import cancel", self.csrf(job))
            raise RequestFailed(
                f"{label}: the check says {state}, {checked.new_rows} new and "
                f"{checked.updated_rows} updated rows of {rows}; cancelled, nothing imported"
            )
        started = time.monotonic()
        self.browser.post(f"/admin/imports/{job}/confirm/", "import confirm", self.csrf(job))
        state = self.wait(job, ("committed", "failed"))
        self.report[f"{label} commit"] = time.monotonic() - started
        if state != "committed":
            raise RequestFailed(f"{label}: commit {state}")

    def csrf(self, job):
        _, _, text = self.browser.get(f"/admin/imports/{job}/", "import job page")
        form = next(f for f in forms_of(text) if f["action"].endswith(("/confirm/", "/cancel/")))
        return {k: v for k, v in form["fields"] if k == "csrfmiddlewaretoken"}

    def run(self):
        try:
            # Before the measurement: the settlement, and the roster file in memory.
            self.browser.sign_in("admin", PASSWORDS["admin"])
            from relocation.spreadsheets.kinds import get_kind

            keys = [c.key for c in get_kind("settlement").columns]
            values = {"code": self.code, "name": "负载测试安置点", "county": "522301"}
            settlement_csv = csv_bytes("settlement", [[values.get(k, "") for k in keys]])
            job = self.upload("settlement", f"{self.code}.csv", settlement_csv)
            self.check_and_commit(job, 1, "settlement")
            content = csv_bytes("roster", roster_rows(self.args.import_rows, self.code))
        except Exception as exc:  # reported by the main thread
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        try:
            self.args.go.wait()
            if self.stop.wait(self.args.import_delay):
                return
            started = time.monotonic()
            job = self.upload("roster", f"{self.code}-roster.csv", content)
            self.report["roster upload"] = time.monotonic() - started
            self.check_and_commit(job, self.args.import_rows, "roster")
            self.report["committed at"] = time.monotonic() - self.stats.started_monotonic
        except Exception as exc:  # reported by the main thread
            self.error = exc


def own_jobs(code):
    """The import jobs of this script's files (their names start with its settlement code)."""
    from relocation.spreadsheets.models import ImportJob

    names = [f"{code}.csv", f"{code}-roster.csv"]
    return ImportJob.objects.filter(file_name__in=names, user__username="admin")


def remove_import(code):
    """Delete the script's settlement and what its import created; nothing else."""
    from django.db import transaction

    from communities.demo import delete_scoped
    from communities.models import Building, GridUnit, Household, Person, Settlement
    from relocation.dashboards.engine import rollup
    from relocation.dashboards.models import Period, SettlementFigure

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import guard

    jobs = own_jobs(code)
    settlement = Settlement.objects.filter(code=code).first()
    if settlement is None:
        jobs.delete()
        return "nothing"
    reasons = {job.history_reason for job in jobs}
    households = Household._base_manager.filter(settlement=settlement)
    people = Person._base_manager.filter(household__settlement=settlement)
    what = f"the removal of settlement {code}"
    guard.require_own_records(Settlement.objects.filter(pk=settlement.pk), reasons, what)
    guard.require_own_records(households, reasons, what)
    guard.require_own_records(people, reasons, what)
    for model in (Building, GridUnit):  # the roster makes none: anything there is others'
        guard.require_own_records(model._base_manager.filter(settlement=settlement), (), what)
    removed = {"households": households.count(), "people": people.count()}
    periods = set(
        SettlementFigure.objects.filter(settlement=settlement).values_list("period", flat=True)
    )
    scoped = {
        Person: people,
        Household: households,
        GridUnit: GridUnit._base_manager.filter(settlement=settlement),
        Building: Building._base_manager.filter(settlement=settlement),
        Settlement: Settlement._base_manager.filter(pk=settlement.pk),
    }
    with transaction.atomic():
        delete_scoped(scoped)
        jobs.delete()
        # The region sums of every period that counted the settlement, without it again.
        for period in Period.objects.filter(pk__in=periods):
            rollup(period)
    return removed


# --------------------------------------------------------------------------- the server


def serve_env(url):
    """The production settings for this machine, keyed like the checkout's ``.env``."""
    secret = re.search(r"^SECRET_KEY=(.*)$", (ROOT / ".env").read_text(), re.M).group(1).strip()

    def derived(label):
        digest = hmac.new(secret.encode(), label, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()

    path = ROOT / ".make" / "load.env"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        "# Written by benchmarks/load.py: the development keys of .env, plain http on 127.0.0.1.\n"
        f"SECRET_KEY={secret}\n"
        f"PII_ENCRYPTION_KEYS={derived(b'relocation pii encryption key')}\n"
        f"PII_HASH_KEY={derived(b'relocation pii hash key')}\n"
        "ALLOWED_HOSTS=127.0.0.1,localhost\n"
        "SECURE_SSL_REDIRECT=false\nSESSION_COOKIE_SECURE=false\nCSRF_COOKIE_SECURE=false\n"
        "SECURE_HSTS_SECONDS=0\n"
        # As in production (deploy/relocation.env.example): the job worker refreshes.
        "DASHBOARD_INLINE_LIMIT=0\n"
    )
    path.chmod(0o600)
    env = dict(os.environ, ENV_FILE=str(path), DEBUG="false")
    env["GUNICORN_BIND"] = urllib.parse.urlsplit(url).netloc
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def start_server(args):
    env = serve_env(args.url)
    bin_dir = Path(PYTHON).parent
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    log = open(args.access_log, "w")  # noqa: SIM115 - closed with the server
    # The access log adds each request's server time (%(M)s, ms) to gunicorn's line.
    web = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "--config",
            "deploy/gunicorn.conf.py",
            "--access-logformat",
            '%(s)s %(M)sms "%(r)s"',
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "run_worker", "--queue-name", "*"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = urllib.parse.urlsplit(args.url)
    for _ in range(120):
        try:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
            conn.request("GET", "/readyz", headers={"Host": url.netloc})
            if conn.getresponse().status == 200:
                break
        except OSError:
            pass
        if web.poll() is not None:
            sys.exit(f"gunicorn stopped; see {args.access_log}")
        time.sleep(1)
    else:
        stop_server((web, worker))
        sys.exit(f"the server did not become ready; see {args.access_log}")
    return web, worker


def stop_server(processes):
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- main


def worker_households(args):
    """The worker login's households (ids), read through its own list pages."""
    browser = Browser(args.url, Stats())
    browser.sign_in("worker", PASSWORDS["worker"])
    found = []
    for page in range(3):
        _, _, text = browser.get(f"/admin/communities/household/?p={page + 1}", "list")
        rows = [int(pk) for pk, _ in HOUSEHOLD_ROW.findall(text)]
        found.extend(rows)
        if len(rows) < 50:
            break
    return found


def server_page_name(method, target):
    """The client's page name of a request line in gunicorn's access log."""
    path, _, query = target.partition("?")
    if path == "/dashboard/":
        return "dashboard home"
    if path.startswith("/dashboard/"):
        return dashboard_name(path)
    if path.startswith("/admin/imports/"):
        return "import pages"
    if re.fullmatch(r"/admin/communities/household/\d+/change/", path):
        return "household save" if method == "POST" else "household form"
    if path == "/admin/communities/household/" and "q=" in query:
        return "household search"
    if path == "/admin/communities/household/" and "area=" not in query:
        return "household list"
    if path.startswith("/admin/") and "area=" in query:
        return "drill-down list"
    return "other"


ACCESS_LINE = re.compile(r'^(\d{3}) (\d+)ms "(\w+) (\S+) ')


def server_times(log_path, start, end):
    """Server time per page (gunicorn's %(M)s) of the log lines written while measuring."""
    times = defaultdict(list)
    with open(log_path, "rb") as log:
        log.seek(start)
        for raw in log.read(end - start).decode("utf-8", "replace").splitlines():
            match = ACCESS_LINE.match(raw)
            if match:
                status, ms, method, target = match.groups()
                times[server_page_name(method, target)].append(int(ms))
    return times


def machine_cpu():
    """(busy, total) clock ticks of every core since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def session_cpu(session):
    """CPU seconds of the processes of one session (gunicorn's or the worker's), reaped
    children included."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == session:
            ticks += sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def print_table(stats, cores, importer):
    elapsed = stats.stopped - stats.started
    names = sorted(stats.samples, key=lambda n: (not n.startswith("dashboard"), n))
    total = sum(len(v) for v in stats.samples.values())
    failed = sum(len(v) for v in stats.failures.values())
    print(f"\n{'page':32} {'requests':>8} {'fail':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for name in names:
        ms = stats.samples[name]
        print(
            f"{name:32} {len(ms):8} {len(stats.failures[name]):5} "
            + " ".join(f"{percentile(ms, p):7.0f}" for p in (50, 95, 99))
            + f" {max(ms):7.0f}"
        )
    dash = [m for n, v in stats.samples.items() if n.startswith("dashboard") for m in v]
    saves = stats.samples.get("household save", [])
    print(
        f"{'all dashboards':32} {len(dash):8} {'':5} "
        + " ".join(f"{percentile(dash, p):7.0f}" for p in (50, 95, 99))
    )
    print(
        f"\n{total} requests in {elapsed:.0f} s: {total / elapsed:.1f} requests/s, "
        f"{total / elapsed / cores:.1f} per core ({cores} cores); failures {failed}"
    )
    print(
        f"goals: dashboards p95 {percentile(dash, 95):.0f} ms (≤ 300), "
        f"saves p95 {percentile(saves, 95):.0f} ms (≤ 500), failures {failed} (0)"
    )
    reasons = defaultdict(int)
    for name, items in stats.failures.items():
        for item in items:
            reasons[(name, item)] += 1
    for (name, item), count in sorted(reasons.items()):
        print(f"  failed: {name}: {item} × {count}")
    if importer is not None:
        print(
            "import: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in importer.report.items())
            + (f"; ERROR {importer.error}" if importer.error else "")
        )


def measure_server(args, processes):
    return {
        "log": os.path.getsize(args.access_log) if processes else 0,
        "machine": machine_cpu(),
        "cpu": [session_cpu(p.pid) for p in processes],
        "load": os.getloadavg()[0],
        "client": sum(os.times()[:2]),
    }


def print_server(args, before, after, stats, cores):
    busy = after["machine"][0] - before["machine"][0]
    total = after["machine"][1] - before["machine"][1]
    requests = sum(len(v) for v in stats.samples.values())
    print(
        f"machine: {100 * busy / total:.0f} % of {cores} cores busy (everything running on it), "
        f"load average {before['load']:.1f} → {after['load']:.1f}"
    )
    print(f"client CPU (this script): {after['client'] - before['client']:.0f} s")
    if not before["cpu"]:
        return
    web, worker = (a - b for a, b in zip(after["cpu"], before["cpu"], strict=True))
    print(
        f"server CPU: gunicorn {web:.0f} s ({requests / web:.1f} requests per CPU second), "
        f"job worker {worker:.0f} s; PostgreSQL's is in the machine's figure"
    )
    times = server_times(args.access_log, before["log"], after["log"])
    print(f"\nserver time (gunicorn access log) {'requests':>8} {'p50':>7} {'p95':>7} {'p99':>7}")
    for name in sorted(times, key=lambda n: (not n.startswith("dashboard"), n)):
        ms = times[name]
        print(
            f"{name:32} {len(ms):8} " + " ".join(f"{percentile(ms, p):7.0f}" for p in (50, 95, 99))
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8701")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=300, help="seconds measured")
    parser.add_argument("--think", default="1,5", help="think time between pages: low,high s")
    parser.add_argument("--import-rows", type=int, default=0, help="roster rows to import")
    parser.add_argument("--import-delay", type=float, default=10, help="s before the upload")
    parser.add_argument("--serve", action="store_true", help="start gunicorn and the worker")
    parser.add_argument("--access-log", default="/tmp/load-access.log")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    low, _, high = args.think.partition(",")
    args.think = (float(low), float(high or low))
    args.go = threading.Event()
    cores = os.cpu_count()

    processes = start_server(args) if args.serve else ()
    stats, stop = Stats(), threading.Event()
    importer, code = None, None
    try:
        if args.import_rows:
            django_setup()
            code = f"{SETTLEMENT_PREFIX}{args.seed:03d}"
            remove_import(code)  # what a run stopped half-way left behind
            importer = Importer(args, stats, stop, code)
        households = worker_households(args)
        if not households:
            sys.exit("the worker login sees no household")
        users = []
        counts = {login: int(share * args.users) for login, share in MIX}
        counts["county"] += args.users - sum(counts.values())
        n = 0
        for login, _ in MIX:
            for i in range(counts[login]):
                if login == "worker":
                    mine = households[i :: counts["worker"]] or households
                    users.append(Worker(n, login, args, stats, stop, mine))
                else:
                    users.append(Official(n, login, args, stats, stop))
                n += 1
        print(machine.describe())
        print(
            f"{args.users} users ({', '.join(f'{k} {v}' for k, v in counts.items())}), "
            f"think {args.think[0]:g}–{args.think[1]:g} s, {args.duration:g} s"
            + (f", importing {args.import_rows} roster rows" if args.import_rows else ""),
            flush=True,
        )
        for user in users:  # sign in a few at a time (password hashing is slow on purpose)
            user.start()
            time.sleep(0.2)
        if importer:
            importer.start()
        for user in [*users, *([importer] if importer else [])]:
            user.ready.wait()
        broken = [u for u in [*users, *([importer] if importer else [])] if u.error]
        if broken:
            sys.exit(f"{len(broken)} users could not start: {broken[0].error}")
        before = measure_server(args, processes)
        stats.measuring = True
        stats.started, stats.started_monotonic = time.time(), time.monotonic()
        args.go.set()
        stop.wait(args.duration)
        stop.set()
        stats.measuring = False
        stats.stopped = time.time()
        after = measure_server(args, processes)
        for user in users:
            user.join(120)
        if importer:
            # A commit still running holds its transaction: wait for it before the removal.
            importer.join(1800 if importer.jobs else 5)
        print_table(stats, cores, importer)
        print_server(args, before, after, stats, cores)
        print(
            f"household saves: {SAVES[True]} added the marker to 备注, {SAVES[False]} removed "
            "it again (each save that changes 备注 adds a change-history row of that household)"
        )
        left = [u for u in users if isinstance(u, Worker) and (u.pending or u.error)]
        for user in left:
            print(
                f"  worker {user.number}: household {user.pending} keeps the marker: {user.error}"
            )
    finally:
        stop.set()
        if code:
            print(f"removed the import's settlement and rows: {remove_import(code)}")
        stop_server(processes)


if __name__ == "__main__":
    main()
