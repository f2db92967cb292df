"""Pages opened by several people at the same moment all answer.

A page that shows personal data in clear records that it did (the read audit):
it reads, then writes.  On the embedded SQLite database such a page's
transaction begins DEFERRED; when another request wrote between its first read
and its audit rows, SQLite refused the write at once with "database is locked"
and the page failed with a 500 (``relocation.sqlite.base.write_after_reads``).
The suite's SQLite test database is a file, as the embedded default is, so the
live server's threads each have their own connection, as in production.
"""

import threading
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection, transaction

from communities.audit import Trail
from communities.models import Person
from communities.read_audit import AuditChannel, ReadAuditEntry
from communities.tests.conftest import world  # noqa: F401
from relocation.sqlite.base import deferred_transactions

ROUNDS = 6


def fetch_together(url, paths, cookie):
    """Every path ``ROUNDS`` times, all at once: ``[(path, status)]``."""
    statuses, lock = [], threading.Lock()

    def fetch(path):
        request = urllib.request.Request(f"{url}{path}", headers={"Cookie": cookie})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            statuses.append((path, status))

    threads = [threading.Thread(target=fetch, args=(p,)) for _ in range(ROUNDS) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_worker_s_pages_opened_together_are_all_answered_and_audited(
    live_server,
    world,  # noqa: F811
    client,
):
    worker, head = world.worker, world.heads["a"]
    paths = [
        "/admin/",
        "/admin/communities/household/",
        "/admin/communities/person/",
        f"/admin/communities/person/{head.pk}/change/",
        f"/admin/communities/household/{head.household_id}/change/",
    ]
    client.force_login(worker)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    statuses = fetch_together(live_server.url, paths, cookie)
    assert len(statuses) == ROUNDS * len(paths)
    assert {status for _path, status in statuses} == {200}, sorted(statuses)
    # Each opening of the head's page recorded that it showed the ID number.
    shown = ReadAuditEntry.objects.filter(
        user=worker,
        channel=AuditChannel.PAGE,
        object_id=str(head.pk),
        field="id_number",
        path=f"/admin/communities/person/{head.pk}/change/",
    )
    assert shown.count() == ROUNDS


@pytest.mark.django_db(transaction=True)
def test_a_read_transaction_records_its_audit_after_another_connection_wrote(world):  # noqa: F811
    """The page's sequence, step by step: read, another connection writes, audit."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    head = world.heads["a"]

    def another_request_writes():  # in a thread: a connection of its own
        try:
            Session.objects.create(
                session_key="x" * 32, session_data="", expire_date=timezone.now()
            )
        finally:
            connection.close()

    with deferred_transactions(), transaction.atomic():  # as a GET page's request
        assert Person.objects.filter(household=head.household).count() == 3  # it has read
        writer = threading.Thread(target=another_request_writes)
        writer.start()
        writer.join()
        trail = Trail(world.worker, AuditChannel.PAGE, path="/probe/")
        trail.add_shown(head, ["id_number", "phone"])
        trail.write()  # before: "database is locked" here, on SQLite
    rows = ReadAuditEntry.objects.filter(path="/probe/", object_id=str(head.pk))
    assert sorted(rows.values_list("field", flat=True)) == ["id_number", "phone"]
