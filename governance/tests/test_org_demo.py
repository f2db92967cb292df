"""The organisation demo: deterministic, at the seeds' proportions, removable."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count

from communities.demo import demo_settlements
from communities.models import Household
from governance.demo.organisation import build_organisation_demo, delete_organisation_demo
from governance.models.organisation import (
    OPEN_PETITION,
    Cadre,
    Pairing,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Petition,
    PetitionCategory,
    PetitionState,
    PetitionTransition,
    ResidentGroup,
    StairLeader,
    Visit,
)

pytestmark = pytest.mark.django_db

HOUSEHOLDS = 120


def snapshot():
    return (
        list(PartyOrganisation.objects.order_by("name").values_list("name", "kind")),
        list(
            Pairing.objects.order_by("household__number").values_list(
                "household__number", "cadre__name"
            )
        ),
        list(
            Visit.objects.order_by("household__number", "visited_on").values_list(
                "household__number", "visited_on", "follow_up_state"
            )
        ),
        list(
            Petition.objects.order_by("received_on", "summary", "state").values_list(
                "received_on", "state", "category__name"
            )
        ),
    )


def test_demo_proportions_determinism_and_removal():
    out = io.StringIO()
    call_command("load_demo", "--households", str(HOUSEHOLDS), "--seed", "7", stdout=out)
    assert "社区治理（组织、结对走访、利益诉求）演示数据已生成" in out.getvalue()
    households = Household.objects.filter(settlement__in=demo_settlements()).count()
    kinds = dict(PartyOrganisation.objects.values_list("kind").annotate(n=Count("pk")).order_by())
    settlements = demo_settlements().count()
    assert (
        kinds[PartyOrgKind.WORKING_COMMITTEE] == kinds[PartyOrgKind.GENERAL_BRANCH] == settlements
    )
    assert kinds[PartyOrgKind.BRANCH] >= settlements
    members = PartyMember.objects.count()
    developed = PartyMember.objects.filter(origin="developed").count()
    assert members > 0 and developed < members
    # Seed 003: every household paired (but one in twenty, for the work list).
    paired = Pairing.objects.values("household").distinct().count()
    assert households - households // 20 - settlements <= paired < households
    # Seed 001: one cadre per 2.3 households.
    assert abs(Cadre.objects.count() - households / 2.3) <= settlements
    # Visits, needs still open, petitions of every state, a few overdue.
    assert Visit.objects.filter(follow_up_state__in=["pending", "in_progress"]).exists()
    states = set(Petition.objects.values_list("state", flat=True))
    assert {PetitionState.FOLLOWED_UP, PetitionState.IN_PROGRESS} <= states
    assert Petition.objects.overdue().exists()
    # Every petition's log starts with 受理 and ends in its state.
    for p in Petition.objects.all()[:50]:
        steps = list(p.transitions.order_by("on_date", "id").values_list("to_state", flat=True))
        assert steps[0] == PetitionState.ACCEPTED and steps[-1] == p.state
    # About 0.3 per household a year over two years.
    assert abs(Petition.objects.count() - households * 0.6) <= households * 0.1 + 3
    assert Petition.objects.filter(state__in=OPEN_PETITION).count() < Petition.objects.count()

    first = snapshot()
    assert ResidentGroup.buildings.through.objects.exists()
    # Each group's "+" history row (its only one) records its buildings, as a save would.
    for group in ResidentGroup.objects.prefetch_related("buildings"):
        (created,) = group.history.all()
        assert created.history_type == "+"
        recorded = {link.building_id for link in created.buildings.all()}
        assert recorded == {b.pk for b in group.buildings.all()} and recorded
    # Built again: nothing doubled.
    assert build_organisation_demo(7) is None
    delete_organisation_demo()
    assert not PartyOrganisation.objects.exists() and not Petition.objects.exists()
    assert not PetitionTransition.objects.exists() and not PetitionCategory.objects.exists()
    assert not Pairing.history.exists() and not Petition.history.exists()
    # Deleted without a "-" history row per object, and their "+" rows gone too.
    for model in (Visit, Cadre, PartyMember, PartyOrganisation, StairLeader, ResidentGroup):
        assert not model.objects.exists(), model
        assert not model.history.exists(), model
    # The groups' links to their buildings and the links' history went with them.
    assert not ResidentGroup.buildings.through.objects.exists()
    links_history = apps.get_model(
        "governance", f"{ResidentGroup.history.model.__name__}_buildings"
    )
    assert not links_history.objects.exists()
    assert Household.objects.count() == households  # nothing it did not build
    build_organisation_demo(7)
    assert snapshot() == first
