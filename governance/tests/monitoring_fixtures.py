"""Fixtures of the 防返贫 monitoring tests (imported by ``test_monitoring_*.py``).

The communities ``world`` (settlements A and B in 兴义市, C in 钟山区; A lies in
黄草街道, B has no township recorded) plus users of every level for A (fixture ``gov``, import ``gov_fixture``):
``worker`` (community: settlement A), ``township`` (黄草街道), ``other_township``
(兴泰街道, same county), ``county`` (兴义市), ``prefecture`` (黔西南州) and
``other_county`` (钟山区).
"""

import datetime

import pytest

from communities.roles import Role
from communities.tests.conftest import world  # noqa: F401
from governance import monitoring_workflow as wf
from governance.models import LeadSource, MonitoringCategory, RiskType, Step

D0 = datetime.date(2026, 3, 2)


def day(n):
    return D0 + datetime.timedelta(days=n)


@pytest.fixture(name="gov")
def gov_fixture(world, make_user):  # noqa: F811
    rt = world.regions
    world.township = make_user(Role.COUNTY_OFFICIAL, regions=[rt.huangcao], username="township")
    world.other_township = make_user(
        Role.COUNTY_OFFICIAL, regions=[rt.xingtai], username="other_township"
    )
    world.b_worker = make_user(Role.COMMUNITY_WORKER, settlements=[world.b], username="b_worker")
    return world


def open_record(gov, household=None, user=None, on=D0):
    return wf.start_identification(
        household or gov.households["a"],
        user=user or gov.worker,
        category=MonitoringCategory.EDGE,
        lead_source=LeadSource.SURVEY,
        taken_on=on,
        risks=(RiskType.ILLNESS,),
    )


def walk(gov, record, upto=Step.COUNTY, start=D0, township_user=None, procedure_day=0):
    """Take the steps after the lead up to ``upto`` with the right users and dates."""
    users = {
        Step.VISIT: gov.worker,
        Step.VILLAGE: gov.worker,
        Step.TOWNSHIP: township_user or gov.township,
        Step.COUNTY: gov.county,
    }
    for step in (Step.VISIT, Step.VILLAGE, Step.TOWNSHIP, Step.COUNTY):
        if step > upto:
            break
        extra = {}
        on = {Step.VISIT: 1, Step.VILLAGE: 2, Step.TOWNSHIP: 8, Step.COUNTY: 10}[step]
        if step == Step.VILLAGE:
            extra = {
                "notice_start": start + datetime.timedelta(days=2 + procedure_day),
                "notice_end": start + datetime.timedelta(days=6 + procedure_day),
            }
        wf.take_step(
            record,
            step,
            user=users[step],
            taken_on=start + datetime.timedelta(days=on + procedure_day),
            document_number=f"DOC-{int(step)}",
            **extra,
        )
    record.refresh_from_db()
    return record
