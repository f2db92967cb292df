"""The demo's 临时救助, 集体资产 and 集体资产收益, exported and imported again, change nothing."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import upload
from relocation.spreadsheets.workbooks import export_csv, export_xlsx
from services.models import AssetIncome, CollectiveAsset, TemporaryAssistance

pytestmark = pytest.mark.django_db
KINDS = {
    "temporary_assistance": TemporaryAssistance,
    "collective_asset": CollectiveAsset,
    "asset_income": AssetIncome,
}


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", households=200, settlements=4, seed=3, stdout=io.StringIO())
    return {u.username: u for u in get_user_model().objects.all()}


def test_demo_exports_reimport_unchanged(demo):
    for user in (demo["admin"], demo["manager"]):
        for key, model in KINDS.items():
            kind = get_kind(key)
            expected = model.objects.visible_to(user).count()
            assert expected, (user.username, key)  # the demo fills every kind
            for content, name in (
                (export_xlsx(kind, user), "导出.xlsx"),
                (export_csv(kind, user), "导出.csv"),
            ):
                job = upload(user, key, content, name)
                where = (user.username, key, name)
                assert job.errors == [], where
                assert (job.new_rows, job.updated_rows, job.unchanged_rows) == (
                    0,
                    0,
                    expected,
                ), where
    # The county administrator's files hold only the county's rows.
    assert TemporaryAssistance.objects.visible_to(demo["manager"]).count() < (
        TemporaryAssistance.objects.count()
    ) or CollectiveAsset.objects.visible_to(demo["manager"]).count() < (
        CollectiveAsset.objects.count()
    )
