"""Area scope at the queryset level: who sees which records."""

import pytest

from communities.models import Building, GridUnit, Household, Person, Region, Settlement
from communities.scope import Scope, get_scope

pytestmark = pytest.mark.django_db


def numbers(user):
    return set(Household.objects.visible_to(user).values_list("number", flat=True))


def test_each_role_sees_exactly_its_area(world):
    assert numbers(world.worker) == {"522301000001"}
    assert numbers(world.county) == {"522301000001", "522301000002"}
    assert numbers(world.prefecture) == {"522301000001", "522301000002"}
    assert numbers(world.province) == {"522301000001", "522301000002", "520201000001"}
    assert numbers(world.other_county) == {"520201000001"}
    # Only the unrestricted superuser sees the household without a settlement.
    assert numbers(world.admin) == {
        "522301000001",
        "522301000002",
        "520201000001",
        "000000000009",
    }


def test_people_buildings_grids_and_settlements_follow_the_settlement(world):
    assert Person.objects.visible_to(world.worker).count() == 3
    assert Person.objects.visible_to(world.county).count() == 6
    assert Person.objects.visible_to(world.province).count() == 9
    assert Person.objects.visible_to(world.admin).count() == 10
    assert set(Settlement.objects.visible_to(world.county)) == {world.a, world.b}
    assert set(Building.objects.visible_to(world.worker).values_list("settlement", flat=True)) == {
        world.a.pk
    }
    assert GridUnit.objects.visible_to(world.other_county).get().settlement == world.c


def test_user_without_scope_or_inactive_sees_nothing(world, make_user):
    nobody = make_user()
    assert Household.objects.visible_to(nobody).count() == 0
    world.county.is_active = False
    world.county.save()
    world.county._area_scope = None
    assert Household.objects.visible_to(world.county).count() == 0


def test_township_scope_covers_settlements_recorded_under_it(world, make_user):
    township_official = make_user(regions=[world.regions.huangcao])
    assert numbers(township_official) == {"522301000001"}


def test_regions_visible_to_scoped_user(world):
    codes = set(Region.objects.visible_to(world.county).values_list("code", flat=True))
    assert codes == {"522301", "522301001", "522301002"}
    # A settlement-scoped worker sees the regions their settlement lies in.
    assert set(Region.objects.visible_to(world.worker).values_list("code", flat=True)) == {
        "522301",
        "522301001",
    }


def test_nested_prefixes_are_collapsed(world, make_user):
    user = make_user(regions=[world.regions.qianxinan, world.regions.xingyi])
    assert get_scope(user).region_prefixes == ("5223",)


def test_covers_scope(world):
    prefecture = get_scope(world.prefecture)
    assert prefecture.covers_scope(get_scope(world.county))
    assert prefecture.covers_scope(get_scope(world.worker))
    assert not prefecture.covers_scope(get_scope(world.other_county))
    assert not get_scope(world.county).covers_scope(get_scope(world.prefecture))
    assert not prefecture.covers_scope(Scope(unrestricted=True))


def settlement_list_reads(ctx):
    return [q for q in ctx.captured_queries if 'SELECT "communities_settlement"."id"' in q["sql"]]


def test_a_request_reads_the_settlements_in_scope_once(world):
    """VisibleSettlementsMiddleware: every scoped queryset of a request uses one read of
    the settlements in the user's scope; outside a request each reads them again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from communities.scope import VisibleSettlementsMiddleware

    def view(request):
        with CaptureQueriesContext(connection) as ctx:
            for _ in range(3):
                assert numbers(world.county) == {"522301000001", "522301000002"}
            assert numbers(world.worker) == {"522301000001"}
        return ctx

    inside = VisibleSettlementsMiddleware(view)(None)
    # Once for the county's scope and once for the worker's: the two are kept apart.
    assert len(settlement_list_reads(inside)) == 2
    outside = view(None)
    assert len(settlement_list_reads(outside)) == 4


def test_a_settlement_written_in_the_request_is_in_scope_at_once(world):
    """A settlement saved within the request clears what the request had read, so a
    scoped list straight after shows its households (and a deleted one's are gone)."""
    from communities.scope import VisibleSettlementsMiddleware
    from communities.tests.factories import HouseholdFactory, SettlementFactory

    def view(request):
        assert numbers(world.county) == {"522301000001", "522301000002"}
        new = SettlementFactory(name="新建安置点", code="AZD522301009", county=world.a.county)
        HouseholdFactory(number="522301000077", settlement=new)
        assert numbers(world.county) == {"522301000001", "522301000002", "522301000077"}
        # Moved out of the county: out of scope at once.
        new.county = world.c.county
        new.save()
        assert numbers(world.county) == {"522301000001", "522301000002"}
        return True

    assert VisibleSettlementsMiddleware(view)(None) is True


def test_settlements_written_in_bulk_in_the_request_are_in_scope_at_once(world):
    """An import checked and committed within the request writes settlements in bulk
    (no signals): those writes clear what the request had read too."""
    from communities.scope import VisibleSettlementsMiddleware
    from communities.tests.factories import HouseholdFactory

    def view(request):
        assert numbers(world.county) == {"522301000001", "522301000002"}
        (new,) = Settlement.objects.bulk_create(
            [Settlement(name="批量安置点", code="AZD522301008", county=world.a.county)]
        )
        HouseholdFactory(number="522301000088", settlement=new)
        assert numbers(world.county) == {"522301000001", "522301000002", "522301000088"}
        Settlement.objects.filter(pk=new.pk).update(county=world.c.county)
        assert numbers(world.county) == {"522301000001", "522301000002"}
        new.county = world.a.county
        Settlement.objects.bulk_update([new], ["county"])
        assert "522301000088" in numbers(world.county)
        Household.objects.filter(settlement=new).delete()
        Settlement.objects.filter(pk=new.pk).delete()
        assert numbers(world.county) == {"522301000001", "522301000002"}
        return True

    assert VisibleSettlementsMiddleware(view)(None) is True
